# ResNet-50 teacher -> ResNet-18 student, both MMPretrain ImageClassifiers
# built as the authors build theirs (see _base_/models/resnet18.py): the
# student from scratch with torchvision's init (no zero-init residual, the
# classifier with PyTorch's default nn.Linear init); the teacher frozen and
# in eval mode, its weights from ``teacher_ckpt`` (loaded strictly).
# Leaf configs set num_classes and teacher_ckpt; those on the authors'
# datasets override the data_preprocessor's mean and std (ImageNet's here,
# the Places365 runs' normalisation).
_stem = dict(type='mmpretrain.ImageClassifier',
             # Unused in distillation (the algorithm's preprocessor runs),
             # but built, so it must resolve outside the mmrazor scope.
             data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor'),
             neck=dict(type='mmpretrain.GlobalAveragePooling'))
_head = dict(type='mmpretrain.LinearClsHead',
             loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
             topk=(1, 5),
             init_cfg=None)

model = dict(
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    architecture=dict(
        _stem,
        backbone=dict(type='mmpretrain.ResNet', depth=18, num_stages=4,
                      out_indices=(3, ), style='pytorch',
                      zero_init_residual=False),
        head=dict(_head, in_channels=512)),
    teacher=dict(
        _stem,
        backbone=dict(type='mmpretrain.ResNet', depth=50, num_stages=4,
                      out_indices=(3, ), style='pytorch'),
        head=dict(_head, in_channels=2048)),
    teacher_ckpt=None,
)
