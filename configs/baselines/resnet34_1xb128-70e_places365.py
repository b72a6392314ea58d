# ResNet-34 student baseline on Places365: from scratch with torchvision's
# init (_base_/models/resnet34.py), lr 0.1, 1 GPU x 128, 70 epochs.
_base_ = [
    '../_base_/models/resnet34.py',
    '../_base_/datasets/places365_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    head=dict(num_classes=365))
