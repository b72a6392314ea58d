# DCT-KD + Hinton KD (KLDivergence on logits, T = 4): ResNet-152 ->
# ResNet-34 on Places365-Standard.
_base_ = ['./dct_kd_r152_r34_places365.py', '../_base_/distill/hinton_kd.py']

model = dict(
    distiller=dict(
        student_recorders={{_base_.kd_distiller.student_recorders}},
        teacher_recorders={{_base_.kd_distiller.teacher_recorders}},
        distill_losses={{_base_.kd_distiller.distill_losses}},
        loss_forward_mappings={{_base_.kd_distiller.loss_forward_mappings}}))
