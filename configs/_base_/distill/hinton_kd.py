# Hinton et al., "Distilling the Knowledge in a Neural Network" (2015), with
# MMRazor's KLDivergence on the classifier logits, T = 4 (its loss already
# carries the T^2 factor). Use as ``model = dict(distiller={{_base_.kd_distiller}})``
# or merge its parts into a DCT distiller for DCT+KD.
kd_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_kd=dict(
            preds_S=dict(recorder='fc', from_student=True),
            preds_T=dict(recorder='fc', from_student=False))),
)
