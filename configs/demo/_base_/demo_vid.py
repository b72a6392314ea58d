# VID on the demo's networks (vid_r18_synthetic.py sets the channels of
# its quarter-width stages).
_base_ = ['./demo_distill.py', '../../_base_/distill/vid_resnet_stages.py']

model = dict(distiller={{_base_.vid_distiller}})
