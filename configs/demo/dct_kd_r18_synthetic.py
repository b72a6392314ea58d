# Demo DCT-KD: DCTAttentionLoss on the four ResNet stages, gated on the
# samples the teacher classifies correctly (configs/_base_/distill).
_base_ = [
    './_base_/demo_distill.py',
    '../_base_/distill/dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
# Log teacher/student attention maps and their DCT spectra for two fixed
# validation images to the visualizer (work_dir/<time>/vis_data/vis_image).
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='AttentionMapVisualizationHook', interval=125, num_samples=2,
         draw_before_train=True),
]
