default_scope = 'mmpretrain'
custom_imports = dict(imports=['dctkd_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook that writes atomically and deletes old checkpoints only
    # after the new one is complete (docs/reliability.md).
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Dataset and heads must agree on the class count (checked before the
    # first batch; a default hook, so configs replacing custom_hooks keep it).
    class_count=dict(type='ClassCountCheckHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
# MMEngine's DDP wrapper does not broadcast buffers: without this each rank
# validates and saves its own BatchNorm statistics.
custom_hooks = [dict(type='SyncBuffersHook')]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
val_cfg = dict()
test_cfg = dict()
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
