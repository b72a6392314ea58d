# DCT-driven attention distillation from the adapted teacher: its layer3
# and layer4 maps and the logits used for gating come through the
# activation-map adaptive module replacing backbone.layer3.5.
_base_ = [
    './_base_/r50_r18_distill_cifar10.py',
    '../_base_/distill/dct_resnet_stages.py',
    './_base_/adaptive_layer3.py',
]

model = dict(
    type='AdaptiveTeacherDistill',
    adaptive_module={{_base_.adaptive_module}},
    distiller={{_base_.dct_distiller}})
