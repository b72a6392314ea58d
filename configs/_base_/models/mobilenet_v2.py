# MobileNetV2 student as the authors build it (torchvision's): Dropout 0.2
# before the classifier; Kaiming fan-out convs, BN weight 1 and a
# Normal(0, 0.01) classifier with zero bias, which is MMPretrain's init too.
_base_ = ['mmpretrain::_base_/models/mobilenet_v2_1x.py']

model = dict(
    # ImageNet's statistics, the Places365 runs' normalisation; the
    # configs on the authors' datasets override mean and std.
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    head=dict(type='DropoutLinearClsHead', dropout_rate=0.2))
