# DCTAttentionLoss on the four ResNet stages (layer1..layer4) of student and
# teacher, gated on teacher-correct samples (the paper's default), as ONE
# loss call for all stages (RecorderListDistiller: a recorder list passes
# the four stage outputs as one list): one gating and one finite check per
# step. The per-stage values are logged as distill.dct_layer1..4.
# Use as ``model = dict(distiller={{_base_.dct_distiller}})``; pairs whose
# student is not a ResNet override ``student_recorders`` sources. Configs
# combining DCT with another loss add its recorders and mapping by merge.
_stages = ['layer1', 'layer2', 'layer3', 'layer4']
_loss_weight = 1.0

dct_distiller = dict(
    type='RecorderListDistiller',
    student_recorders={
        stage: dict(type='ModuleOutputs', source=f'backbone.{stage}')
        for stage in _stages
    },
    teacher_recorders=dict(
        {
            stage: dict(type='ModuleOutputs', source=f'backbone.{stage}')
            for stage in _stages
        },
        # For teacher-correct gating: the teacher's logits, and the targets
        # its head's loss module receives (ClsHead has already stacked the
        # batch's labels there, on the device: no per-sample work here).
        logits=dict(type='ModuleOutputs', source='head.fc'),
        labels=dict(type='ModuleInputs', source='head.loss_module'),
    ),
    distill_losses=dict(
        # transform='dft_real' (default): the authors' transform.
        loss_dct=dict(type='DCTAttentionLoss', loss_weight=_loss_weight)),
    loss_forward_mappings=dict(
        loss_dct=dict(
            s_feature=dict(recorder=_stages, from_student=True),
            t_feature=dict(recorder=_stages, from_student=False),
            t_logits=dict(recorder='logits', from_student=False),
            gt_labels=dict(recorder='labels', from_student=False,
                           data_idx=1))),
)
