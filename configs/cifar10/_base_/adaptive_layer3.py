# Our reading of Wu et al.'s activation-map adaptive module (2020; from the
# abstract only, see docs/adaptive_module.md): the teacher's last layer3
# block is replaced by a trainable copy starting from its weights; the
# teacher's cross-entropy through its frozen layer4 and head (weight 1)
# keeps the adapted maps fit for the task, and the distillation gradient
# also reaches the module. Use as
# ``model = dict(type='AdaptiveTeacherDistill',
#                adaptive_module={{_base_.adaptive_module}})``.
adaptive_module = dict(
    blocks=['backbone.layer3.5'],
    init='teacher',
    teacher_loss_weight=1.0,
    distill_grad=True)
