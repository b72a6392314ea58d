# ResNet-34 student as the authors build it: torchvision's initialisation
# (Kaiming fan-out convs, BN weight 1, no zero-init of the residual BN) and
# a new nn.Linear classifier with PyTorch's default init (their
# _resnet() replaces fc), so MMPretrain's Normal(0.01) head init is off.
_base_ = ['mmpretrain::_base_/models/resnet34.py']

model = dict(
    # ImageNet's statistics, the Places365 runs' normalisation; the
    # configs on the authors' datasets override mean and std.
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(zero_init_residual=False),
    head=dict(init_cfg=None))
