# ResNet-50 teacher on SUN397, fine-tuned from MMPretrain's
# ImageNet-1k checkpoint at lr 0.01 (the paper's teacher protocol).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/sun397_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
        prefix='backbone')),
    head=dict(num_classes={{_base_.num_classes}}))
optim_wrapper = dict(optimizer=dict(lr=0.01))
