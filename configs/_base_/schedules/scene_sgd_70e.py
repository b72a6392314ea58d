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
# The recipe's global batch (MMEngine's field): lr 0.1 is for 128 images
# per step in all. tools/train.py refuses a multi-process run with another
# global batch; --keep-global-batch splits these 128 over the processes,
# --auto-scale-lr rescales the lr linearly instead (docs/training.md,
# "From one GPU to a cluster").
auto_scale_lr = dict(base_batch_size=128, enable=False)
