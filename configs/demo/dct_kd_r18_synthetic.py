# Demo DCT-KD: DCTAttentionLoss on the four ResNet stages, gated on the
# samples the teacher classifies correctly (configs/_base_/distill).
_base_ = [
    './_base_/demo_distill.py',
    '../_base_/distill/dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
