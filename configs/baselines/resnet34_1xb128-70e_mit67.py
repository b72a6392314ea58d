# ResNet-34 student baseline on MIT Indoor 67: from scratch with torchvision's
# init (_base_/models/resnet34.py), lr 0.1, 1 GPU x 128, 70 epochs.
_base_ = [
    '../_base_/models/resnet34.py',
    '../_base_/datasets/mit67_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # The authors' normalisation (Config/Dataset/*.yaml).
    data_preprocessor=dict(
        mean=[0.43216 * 255, 0.394666 * 255, 0.37645 * 255],
        std=[0.22803 * 255, 0.22145 * 255, 0.216989 * 255]),
    head=dict(num_classes=67))
