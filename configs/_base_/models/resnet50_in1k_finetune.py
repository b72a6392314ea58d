# MMPretrain's ResNet-50 classifier with the backbone initialised from
# MMPretrain's ImageNet-1k checkpoint: the starting point of the teachers.
_base_ = ['mmpretrain::_base_/models/resnet50.py']

model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
        prefix='backbone')))
