# Demo KD baseline (Hinton et al. 2015): MMRazor's KLDivergence between
# the temperature-softened logits (tau=4) of student and teacher, added
# to the student's cross-entropy.
_base_ = ['./_base_/demo_distill.py']

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(recorder='fc', from_student=True),
                preds_T=dict(recorder='fc', from_student=False)))))
