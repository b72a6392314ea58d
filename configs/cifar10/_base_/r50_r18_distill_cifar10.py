# ResNet-50 -> ResNet-18 on CIFAR-10 in MMPretrain's setting: its CIFAR10
# dataset and pipeline (random crop 32 with padding 4, flip), ResNet_CIFAR
# backbones (3x3 stem, no max-pool) and the 200-epoch cifar10_bs128
# schedule (./cifar10_bs128.py), as in
# mmpretrain::resnet/resnet50_8xb16_cifar10.py (8 GPUs x 16;
# `--auto-scale-lr` rescales lr 0.1 for another total batch size).
# The teacher is MMPretrain's published checkpoint of exactly that config,
# loaded strictly through dctkd_mm's safe checkpoint reader. Leaf configs
# set `model.distiller` (and the adaptive module).
_base_ = [
    'mmpretrain::_base_/models/resnet50_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    './cifar10_bs128.py',
    # The project runtime (atomic checkpoints, class-count check, synced
    # BatchNorm buffers, dctkd_mm imported), validating the student (plain
    # keys) and the teacher (``teacher.*``).
    '../../_base_/distill_runtime.py',
]
# MMPretrain's CIFAR10 unpickles the batch files with plain pickle (a
# crafted data_batch_1 runs code); SafeCIFAR10 is the same dataset reading
# them through dctkd_mm's plain-data unpickler. Exported configs get
# CIFAR10 back.
dataset_type = 'SafeCIFAR10'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))

teacher_ckpt = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                'resnet50_b16x8_cifar10_20210528-f54bfad9.pth')
# `_base_.model` is MMPretrain's ResNet-50 CIFAR classifier (scope
# mmpretrain); the student is the same classifier at depth 18.
__teacher = _base_.model
__student = dict(
    __teacher,
    backbone=dict(__teacher.backbone, depth=18),
    head=dict(__teacher.head, in_channels=512))
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    data_preprocessor=dict(_base_.data_preprocessor,
                           type='mmpretrain.ClsDataPreprocessor'),
    architecture=__student,
    teacher=__teacher,
    teacher_ckpt=teacher_ckpt,
)
