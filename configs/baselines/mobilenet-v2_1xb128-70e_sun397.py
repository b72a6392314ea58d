# MobileNetV2 student baseline on SUN397: from scratch with torchvision's
# init (_base_/models/mobilenet_v2.py), lr 0.1, 1 GPU x 128, 70 epochs.
_base_ = [
    '../_base_/models/mobilenet_v2.py',
    '../_base_/datasets/sun397_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes={{_base_.num_classes}}))
