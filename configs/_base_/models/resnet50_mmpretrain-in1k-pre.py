# ResNet-50 teacher starting from MMPretrain's ImageNet-1k checkpoint (not
# the authors' torchvision weights: resnet50_tv-in1k-pre.py has those).
_base_ = ['./resnet50_tv-in1k-pre.py']

model = dict(
    backbone=dict(init_cfg=dict(
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
        prefix='backbone')))
