# DCTAttentionLoss on the four ResNet stages (layer1..layer4) of student and
# teacher, gated on teacher-correct samples (the paper's default). Use as
# ``model = dict(distiller={{_base_.dct_distiller}})``; pairs whose student
# is not a ResNet override ``student_recorders`` sources.
_stages = (1, 2, 3, 4)
_loss_weight = 1.0

dct_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders={
        f'layer{i}': dict(type='ModuleOutputs', source=f'backbone.layer{i}')
        for i in _stages
    },
    teacher_recorders=dict(
        {
            f'layer{i}': dict(type='ModuleOutputs',
                              source=f'backbone.layer{i}')
            for i in _stages
        },
        # For teacher-correct gating: the teacher's logits and the labels
        # its head receives in ``ClsHead.loss(feats, data_samples)``.
        logits=dict(type='ModuleOutputs', source='head.fc'),
        head_inputs=dict(type='MethodInputs',
                         source='mmpretrain.models.heads.ClsHead.loss'),
    ),
    distill_losses={
        f'loss_dct_s{i}': dict(type='DCTAttentionLoss',
                               loss_weight=_loss_weight)
        for i in _stages
    },
    loss_forward_mappings={
        f'loss_dct_s{i}': dict(
            s_feature=dict(recorder=f'layer{i}', from_student=True),
            t_feature=dict(recorder=f'layer{i}', from_student=False),
            t_logits=dict(recorder='logits', from_student=False),
            gt_labels=dict(recorder='head_inputs', from_student=False,
                           data_idx=1))
        for i in _stages
    },
)
