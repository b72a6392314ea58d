# MobileNet-V2 student baseline on Places365-Standard, trained from scratch.
_base_ = [
    'mmpretrain::_base_/models/mobilenet_v2_1x.py',
    '../_base_/datasets/places365_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes={{_base_.num_classes}}))
