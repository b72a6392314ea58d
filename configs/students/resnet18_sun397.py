# ResNet-18 student baseline on SUN397, trained from scratch.
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/sun397_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes={{_base_.num_classes}}))
