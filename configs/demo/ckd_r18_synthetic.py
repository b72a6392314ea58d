# Demo CKD arm (SemCKD, Chen et al. 2021) as the authors run it
# (config_CKD.yaml): one SemCKDLoss x 400 over layer2-4 of both networks;
# CE weight 1. The channels are those of the demo's width-16 stages
# (tools/run_demo.py scales them with --width, and sets batch_size to the
# demo's --batch-size with the short last batch dropped).
_base_ = ['./_base_/demo_ckd.py']

model = dict(distiller=dict(distill_losses=dict(
    loss_ckd=dict(student_channels=[32, 64, 128],
                  teacher_channels=[128, 256, 512]))))
