# Demo VID arm (Ahn et al. 2019) as the authors run it (config_VID.yaml):
# one VIDLoss per stage on layer2-4, summed, ALPHA 1; CE weight 1. The
# channels are those of the demo's width-16 stages (tools/run_demo.py
# scales them with --width, like the connectors' channels).
_base_ = ['./_base_/demo_vid.py']

model = dict(distiller=dict(distill_losses=dict(
    loss_vid_s2=dict(student_channels=32, teacher_channels=128),
    loss_vid_s3=dict(student_channels=64, teacher_channels=256),
    loss_vid_s4=dict(student_channels=128, teacher_channels=512))))
