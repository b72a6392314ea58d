# VID: ResNet-50 -> MobileNetV2 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: CSAIL's Places365 ResNet-50, converted (docs/zoo.md, "The flagship
# in three commands").
_base_ = [
    '../../_base_/datasets/places365_bs128.py',
    '../../_base_/distill/vid_resnet50_mobilenet-v2.py',
]

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    architecture=dict(head=dict(num_classes=365)),
    teacher=dict(head=dict(num_classes=365)),
    teacher_ckpt='checkpoints/resnet50_places365.pth',
)
