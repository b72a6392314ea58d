# The same hint, from the teacher whose last layer3 block is replaced by
# the activation-map adaptive module (AdaptiveTeacherDistill).
_base_ = [
    './_base_/r50_r18_distill_cifar10.py',
    './_base_/hint_layer3.py',
    './_base_/adaptive_layer3.py',
]

model = dict(
    type='AdaptiveTeacherDistill',
    adaptive_module={{_base_.adaptive_module}},
    distiller={{_base_.hint_distiller}})
