# Runtime for the demo runs: a fixed seed (so every student starts from
# the same data order), frequent logging, only the final checkpoint,
# without optimizer state, to keep disk writes short, and channels-last
# weights, the faster convolutions on a CPU (docs/performance.md). A
# default hook, so that a config replacing custom_hooks keeps it.
_base_ = ['../../_base_/default_runtime.py']

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=-1, save_last=True, save_best=None,
                    max_keep_ckpts=1, save_optimizer=False,
                    save_param_scheduler=False),
    memory_format=dict(type='ChannelsLastHook'),
)
randomness = dict(seed=0, deterministic=False)
