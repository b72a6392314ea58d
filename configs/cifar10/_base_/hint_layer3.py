# FitNets-style hint with MMRazor's L2Loss (per-sample L2-normalised
# features, squared distance, weight 10 as in MMRazor's FitNets config) on
# the output of layer3 (8x8 on CIFAR): the student's 256 channels are
# mapped to the teacher's 1024 by a 1x1 conv + BN + ReLU connector (the
# teacher's output is post-ReLU too). With an adaptive module replacing
# backbone.layer3.5, the recorded teacher output is the module's output.
hint_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(
        hint=dict(type='ModuleOutputs', source='backbone.layer3')),
    teacher_recorders=dict(
        hint=dict(type='ModuleOutputs', source='backbone.layer3')),
    connectors=dict(
        hint_student=dict(type='ConvModuleConnector', in_channel=256,
                          out_channel=1024, norm_cfg=dict(type='BN'))),
    distill_losses=dict(loss_hint=dict(type='L2Loss', loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_hint=dict(
            s_feature=dict(recorder='hint', from_student=True,
                           connector='hint_student'),
            t_feature=dict(recorder='hint', from_student=False))),
)
