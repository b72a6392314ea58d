# Baseline: the ResNet-18 student trained alone on CIFAR-10 --
# MMPretrain's resnet/resnet18_8xb16_cifar10.py (its model, dataset and
# cifar10_bs128 schedule) with the project runtime: safe checkpoint
# loading, atomic checkpoints, the class-count check and exact mid-epoch
# resume.
_base_ = [
    'mmpretrain::_base_/models/resnet18_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    './_base_/cifar10_bs128.py',
    '../_base_/default_runtime.py',
]
# MMPretrain's CIFAR10 unpickles the batch files with plain pickle (a
# crafted data_batch_1 runs code); SafeCIFAR10 is the same dataset reading
# them through dctkd_mm's plain-data unpickler. Exported configs get
# CIFAR10 back.
dataset_type = 'SafeCIFAR10'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
