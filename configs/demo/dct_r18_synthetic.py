# Demo DCT arm as the authors run it (config_DFT.yaml): DCTAttentionLoss
# with their transform (the loss's default, the real part of the 2-D DFT)
# on the four ResNet stages, gated on the samples the teacher classifies
# correctly, weight 1; CE weight 1.
_base_ = [
    './_base_/demo_distill.py',
    '../_base_/distill/dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
