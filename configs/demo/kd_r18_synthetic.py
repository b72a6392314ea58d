# Demo KD arm (Hinton et al. 2015) as the authors run it (config_KD.yaml,
# Run_Train.sh): KL divergence of the T = 4 softened logits, weight 0.8,
# plus the student's cross-entropy at weight 0.1.
_base_ = ['./_base_/demo_distill.py', '../_base_/distill/hinton_kd.py']

model = dict(
    architecture=dict(head=dict(loss=dict(loss_weight=0.1))),
    distiller={{_base_.kd_alone_distiller}})
