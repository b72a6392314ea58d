# The authors' schedule (Config/Training/config_SGD.yaml, trainCNNs.py):
# SGD, momentum 0.9, lr 0.1, weight decay 1e-4, StepLR every 25 epochs
# x0.1, 70 epochs, batch 128 on one GPU. Teachers fine-tuned from ImageNet
# use lr 0.01 (scene_sgd_70e_finetune.py). Model selection: the best
# validation epoch (CheckpointHook ``save_best``).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='StepLR', by_epoch=True, step_size=25, gamma=0.1)
# Epoch-based, but a resume from a mid-epoch checkpoint continues where it
# stopped instead of redoing the epoch (see docs/reliability.md).
train_cfg = dict(
    type='ExactResumeEpochBasedTrainLoop', max_epochs=70, val_interval=1)
# lr 0.1 is for a total batch of 128; --auto-scale-lr rescales it linearly
# for other totals.
auto_scale_lr = dict(base_batch_size=128)
