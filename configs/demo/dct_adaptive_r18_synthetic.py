# Demo DCT arm (dct_r18_synthetic.py) from the adapted teacher: its layer3
# and layer4 maps and the logits used for gating come through the
# activation-map adaptive module replacing backbone.layer3.5.
_base_ = [
    './dct_r18_synthetic.py',
    '../cifar10/_base_/adaptive_layer3.py',
]

model = dict(type='AdaptiveTeacherDistill',
             adaptive_module={{_base_.adaptive_module}})
