# DCT-KD + Hinton KD (KLDivergence on logits, T = 4): ResNet-50 ->
# ResNet-18 on MIT Indoor 67.
_base_ = ['./dct_kd_r50_r18_mit67.py', '../_base_/distill/hinton_kd.py']

model = dict(
    distiller=dict(
        student_recorders={{_base_.kd_distiller.student_recorders}},
        teacher_recorders={{_base_.kd_distiller.teacher_recorders}},
        distill_losses={{_base_.kd_distiller.distill_losses}},
        loss_forward_mappings={{_base_.kd_distiller.loss_forward_mappings}}))
