# DCT-driven attention distillation (the four ResNet stages, 32/16/8/4 px
# on CIFAR, gated on teacher-correct samples) from the fixed teacher.
_base_ = [
    './_base_/r50_r18_distill_cifar10.py',
    '../_base_/distill/dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
