# MMPretrain's CIFAR-10 schedule (mmpretrain::_base_/schedules/
# cifar10_bs128.py: SGD lr 0.1, momentum 0.9, weight decay 1e-4, x0.1 at
# epochs 100 and 150, 200 epochs) with the project's exact-resume loop.
# Restated rather than inherited: MMPretrain's file also sets val_cfg and
# test_cfg, which the project runtime (configs/_base_/default_runtime.py,
# with AtomicCheckpointHook and ClassCountCheckHook) sets too, and MMEngine
# refuses a key defined by two bases of one config.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[100, 150], gamma=0.1)
# A mid-epoch resume continues where it stopped (docs/reliability.md).
train_cfg = dict(
    type='ExactResumeEpochBasedTrainLoop', max_epochs=200, val_interval=1)
# lr 0.1 is for a total batch of 128 (8 GPUs x 16); --auto-scale-lr
# rescales it linearly for other totals.
auto_scale_lr = dict(base_batch_size=128)
