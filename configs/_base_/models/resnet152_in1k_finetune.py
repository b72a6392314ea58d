# MMPretrain's ResNet-152 classifier with the backbone initialised from
# MMPretrain's ImageNet-1k checkpoint: the starting point of the teachers.
_base_ = ['mmpretrain::_base_/models/resnet152.py']

model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'resnet/resnet152_8xb32_in1k_20210901-4d7582fa.pth',
        prefix='backbone')))
