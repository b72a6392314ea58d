# Baseline: the ResNet-18 student trained alone on CIFAR-10 -- MMPretrain's
# resnet/resnet18_8xb16_cifar10.py with the project's safe checkpoint
# loading and exact mid-epoch resume.
_base_ = ['mmpretrain::resnet/resnet18_8xb16_cifar10.py']

custom_imports = dict(imports=['dctkd_mm'], allow_failed_imports=False)
# MMPretrain's CIFAR10 unpickles the batch files with plain pickle (a
# crafted data_batch_1 runs code); SafeCIFAR10 is the same dataset reading
# them through dctkd_mm's plain-data unpickler. Exported configs get
# CIFAR10 back.
dataset_type = 'SafeCIFAR10'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
train_cfg = dict(_delete_=True, type='ExactResumeEpochBasedTrainLoop',
                 max_epochs=200, val_interval=1)
