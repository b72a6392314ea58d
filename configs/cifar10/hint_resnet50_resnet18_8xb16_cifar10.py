# Hint (FitNets-style L2 on layer3) from the fixed ResNet-50 teacher.
_base_ = [
    './_base_/r50_r18_distill_cifar10.py',
    './_base_/hint_layer3.py',
]

model = dict(distiller={{_base_.hint_distiller}})
