# The paper's schedule (López-Cifuentes et al. 2022, Sec. 4.2): SGD,
# momentum 0.9, lr 0.1, weight decay 1e-4, batch 128, 70 epochs, lr x0.1
# every 25 epochs. Teacher fine-tuning overrides lr to 0.01.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[25, 50], gamma=0.1)
# Epoch-based, but a resume from a mid-epoch checkpoint continues where it
# stopped instead of redoing the epoch (see docs/reliability.md).
train_cfg = dict(
    type='ExactResumeEpochBasedTrainLoop', max_epochs=70, val_interval=1)
# lr 0.1 is for a total batch of 128 (e.g. 4 GPUs x 32); --auto-scale-lr
# rescales it linearly for other totals.
auto_scale_lr = dict(base_batch_size=128)
