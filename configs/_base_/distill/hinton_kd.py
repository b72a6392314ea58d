# Hinton et al. (2015) KD as the authors run it: RepDistiller's DistillKL,
# KL(log_softmax(s/T), softmax(t/T), sum) * T^2 / B with T = 4, which is
# MMRazor's KLDivergence(tau=4, reduction='batchmean').
# ``kd_distiller`` (weight 1) is the DELTA term of DCT+KD and AT+KD;
# ``_plus_kd`` is what those runs add to their base model, by merge
# (``model = {{_base_._plus_kd}}``; the underscore keeps it out of
# exported configs): KD's recorders, loss and mapping in the
# distiller, whatever the base names its own parts, and the CE weight
# BETA = 0.1 (Run_Train.sh / Run_TrainNew.sh). ``kd_alone_distiller`` is KD
# as the only distillation loss, weight ALPHA = 0.8 (config_KD.yaml).
_kl = dict(type='KLDivergence', tau=4, reduction='batchmean')

kd_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(loss_kd=dict(_kl, loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_kd=dict(
            preds_S=dict(recorder='fc', from_student=True),
            preds_T=dict(recorder='fc', from_student=False))),
)
kd_alone_distiller = dict(
    kd_distiller, distill_losses=dict(loss_kd=dict(_kl, loss_weight=0.8)))
_plus_kd = dict(
    architecture=dict(head=dict(loss=dict(loss_weight=0.1))),
    distiller={k: v
               for k, v in kd_distiller.items() if k != 'type'})
