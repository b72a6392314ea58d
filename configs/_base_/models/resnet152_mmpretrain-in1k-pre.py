# ResNet-152 teacher starting from MMPretrain's ImageNet-1k checkpoint (not
# the authors' torchvision weights: resnet152_tv-in1k-pre.py has those).
_base_ = ['./resnet152_tv-in1k-pre.py']

model = dict(
    backbone=dict(init_cfg=dict(
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'resnet/resnet152_8xb32_in1k_20210901-4d7582fa.pth',
        prefix='backbone')))
