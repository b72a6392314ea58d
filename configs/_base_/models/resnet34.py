# ResNet-34 student as the authors build it: torchvision's initialisation
# (Kaiming fan-out convs, BN weight 1, no zero-init of the residual BN) and
# a new nn.Linear classifier with PyTorch's default init (their
# _resnet() replaces fc), so MMPretrain's Normal(0.01) head init is off.
_base_ = ['mmpretrain::_base_/models/resnet34.py']

model = dict(
    backbone=dict(zero_init_residual=False),
    head=dict(init_cfg=None))
