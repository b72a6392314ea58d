# DCT-KD + Hinton KD (KLDivergence on logits, T = 4): ResNet-50 ->
# MobileNet-V2 on ADE20K scenes.
_base_ = ['./dct_kd_r50_mbv2_ade20k.py', '../_base_/distill/hinton_kd.py']

model = dict(
    distiller=dict(
        student_recorders={{_base_.kd_distiller.student_recorders}},
        teacher_recorders={{_base_.kd_distiller.teacher_recorders}},
        distill_losses={{_base_.kd_distiller.distill_losses}},
        loss_forward_mappings={{_base_.kd_distiller.loss_forward_mappings}}))
