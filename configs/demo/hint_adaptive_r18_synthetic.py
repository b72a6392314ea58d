# Demo hint arm with the activation-map adaptive module (our reading of
# Wu et al. 2020, docs/adaptive_module.md): the same hint, from a teacher
# whose last layer3 block is replaced by a trainable copy (the CIFAR-10
# configs' choice, configs/cifar10/_base_/adaptive_layer3.py).
_base_ = [
    './hint_r18_synthetic.py',
    '../cifar10/_base_/adaptive_layer3.py',
]

model = dict(type='AdaptiveTeacherDistill',
             adaptive_module={{_base_.adaptive_module}})
