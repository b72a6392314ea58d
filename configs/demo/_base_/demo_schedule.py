# The paper's SGD recipe, shortened to a few epochs for the CPU demo:
# one warm-up epoch, then cosine decay to zero (a step schedule needs more
# epochs than the demo has). Validation only after the last epoch.
_base_ = ['../../_base_/schedules/scene_sgd_70e.py']

max_epochs = 10
# The authors' step per image (lr 0.1 for a batch of 128) at batch 32.
optim_wrapper = dict(optimizer=dict(lr=0.025))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs,
         T_max=max_epochs - 1, eta_min=0., convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
