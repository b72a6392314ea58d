# SemCKD (Chen et al., AAAI 2021) as the authors run their "CKD"
# (Config/Distillation/config_CKD.yaml: ALPHA = 400; Distillation.py:
# SelfA over features[1:-1], i.e. the outputs of ResNet layer2, layer3 and
# layer4 of both networks, then SemCKD.py's attention-weighted MSE), as
# ONE loss call over the three stages (RecorderListDistiller's recorder
# lists): SemCKD pairs every student stage with every teacher stage.
# SemCKDLoss owns SelfA and the 3 x 3 regressors, so they train with the
# student, are checkpointed and resumed, and are not exported. With a
# 2048-channel teacher they hold ~635M parameters (the layer4 regressors'
# 3x3 convs are 4096 x 4096): 2.5 GB in float32, ~5 GB per checkpoint
# with SGD's momentum.
# Batch-size quirk (the authors' SelfA): its MLPs are sized by the batch,
# so ``batch_size`` must be the per-process train batch, and the leaf
# configs drop the short last batch (the authors skip it). Their
# validation skips its short last batch too (and, as committed, feeds
# SelfA 256-sample test batches it cannot take): ours evaluates every
# image, the student only. A MobileNetV2 student overrides the student
# sources and channels (ckd_mbv2_stages.py).
_stages = ['layer2', 'layer3', 'layer4']

ckd_distiller = dict(
    type='RecorderListDistiller',
    student_recorders={
        stage: dict(type='ModuleOutputs', source=f'backbone.{stage}')
        for stage in _stages
    },
    teacher_recorders={
        stage: dict(type='ModuleOutputs', source=f'backbone.{stage}')
        for stage in _stages
    },
    distill_losses=dict(
        loss_ckd=dict(type='SemCKDLoss',
                      student_channels=[128, 256, 512],
                      teacher_channels=[512, 1024, 2048],
                      batch_size=128,
                      loss_weight=400.0)),
    loss_forward_mappings=dict(
        loss_ckd=dict(
            s_feature=dict(recorder=_stages, from_student=True),
            t_feature=dict(recorder=_stages, from_student=False))),
)
