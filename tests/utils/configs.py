"""Configs written for the tests: the zoo's pipelines at tiny crops, tiny
distillation and teacher configs inheriting the real ones, and the
``--cfg-options`` that shrink a CRD config."""
import textwrap
from typing import Callable, List, Optional, Tuple

from .constants import (BATCH, FLAGSHIP_CONFIG, NUM_CLASSES, TEACHER_CHANNELS,
                        TEACHER_CONFIG)


def tiny_pipelines(img_size: int = 32) -> Tuple[List[dict], List[dict]]:
    """The zoo's scene pipelines (configs/_base_/datasets/
    scene_pipelines.py: resize the short edge to 256, crop 224) scaled to
    ``img_size`` crops: ``(train_pipeline, test_pipeline)``."""
    edge = img_size * 9 // 8
    train = [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='ResizeEdge', scale=edge, edge='short'),
        dict(type='RandomCrop', crop_size=img_size),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]
    test = [
        dict(type='CheckedLoadImageFromFile'),
        dict(type='ResizeEdge', scale=edge, edge='short'),
        dict(type='CenterCrop', crop_size=img_size),
        dict(type='PackInputs'),
    ]
    return train, test


# --- configs -----------------------------------------------------------------


def _loaders(data_root: str, batch_size: int, img_size: int = 32) -> str:
    train_pipeline, test_pipeline = tiny_pipelines(img_size)
    return f"""
train_pipeline = {train_pipeline!r}
test_pipeline = {test_pipeline!r}
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
"""


def write_tiny_distill_config(path: str,
                              data_root: str,
                              num_classes: int = NUM_CLASSES,
                              img_size: int = 32,
                              batch_size: int = BATCH,
                              max_epochs: int = 1,
                              seed: Optional[int] = None,
                              teacher_ckpt: Optional[str] = None,
                              adapters: bool = False,
                              val_interval: Optional[int] = None,
                              checkpoint_hook: str = '',
                              extra: str = '') -> str:
    """Write a config inheriting the flagship R50->R18 DCT-KD config with
    the tiny Places365 tree at ``data_root`` (see
    :func:`make_places365_tree`), the zoo's pipelines scaled to ``img_size``
    crops (:func:`tiny_pipelines`), top-5 accuracy only from 5 classes, no
    lr schedule and, unless ``teacher_ckpt`` is given, a random teacher (gating
    still lets some samples through).

    ``adapters=True`` puts a ``ResidualFeatureAdapter`` on the teacher side
    of every stage's loss, so the distiller holds trainable weights of its
    own. ``seed`` None keeps the flagship's (a random seed, which the runner
    and samplers share across ranks). ``val_interval`` defaults to
    ``max_epochs``; ``checkpoint_hook`` is the body of a
    ``default_hooks.checkpoint`` dict. ``extra`` is appended verbatim, so it
    must not assign ``model``, ``train_cfg`` or ``default_hooks`` again (a
    second assignment replaces the first instead of merging).
    """
    distiller = ''
    if adapters:
        connectors = ', '.join(
            f"t_amam_s{i + 1}=dict(type='ResidualFeatureAdapter', "
            f'in_channels={c})' for i, c in enumerate(TEACHER_CHANNELS))
        names = [f't_amam_s{i + 1}' for i in range(len(TEACHER_CHANNELS))]
        distiller = f"""
    distiller=dict(
        connectors=dict({connectors}),
        loss_forward_mappings=dict(
            loss_dct=dict(t_feature=dict(connector={names!r})))),"""
    topk = (1, 5) if num_classes >= 5 else (1, )  # top-5 needs 5 classes
    text = f"""
_base_ = [{FLAGSHIP_CONFIG!r}]
num_classes = {num_classes}
model = dict(
    architecture=dict(head=dict(num_classes={num_classes}, topk={topk})),
    teacher=dict(head=dict(num_classes={num_classes}, topk={topk})),
    teacher_ckpt={teacher_ckpt!r},{distiller}
)
{_loaders(data_root, batch_size, img_size)}
val_evaluator = [dict(type='Accuracy', topk={topk}),
                 dict(type='MeanClassAccuracy')]
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = []
train_cfg = dict(max_epochs={max_epochs},
                 val_interval={val_interval or max_epochs})
default_hooks = dict(logger=dict(interval=1){checkpoint_hook})
randomness = dict(seed={seed!r})
"""
    with open(path, 'w') as f:
        f.write(text + textwrap.dedent(extra))
    return path


def write_teacher_config(path: str, data_root: str) -> str:
    """The real ResNet-50 teacher config on the tiny data, 1 epoch."""
    text = f"""
_base_ = [{TEACHER_CONFIG!r}]
num_classes = {NUM_CLASSES}
model = dict(backbone=dict(init_cfg=None),  # no download in CI
             head=dict(num_classes={NUM_CLASSES}, topk=(1, )))
{_loaders(data_root, BATCH)}
val_evaluator = [dict(type='Accuracy', topk=(1, )),
                 dict(type='MeanClassAccuracy')]
test_evaluator = val_evaluator
# From random weights at batch 4, the zoo's fine-tuning lr 0.01 sends the
# loss from 1.4 to 8.8 in four steps, and how far depends on the thread
# count; a teacher that far gone makes the students' runs diverge too.
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(save_best=None))
randomness = dict(seed=0)
"""
    with open(path, 'w') as f:
        f.write(text)
    return path


def write_distill_config(path: str,
                         data_root: str,
                         teacher_ckpt: Optional[str],
                         max_epochs: int = 2,
                         checkpoint_interval: int = 2,
                         extra: str = '') -> str:
    """The reliability tests' run: :func:`write_tiny_distill_config` with
    adapters, a learning rate step after epoch 1, iteration
    checkpoints every ``checkpoint_interval`` iterations, deterministic
    randomness and the test-only ``TraceAndKillHook`` (off until
    configured, see :func:`trace_options`)."""
    reliability = """
custom_imports = dict(imports=['dctkd_mm', 'reliability_hooks'],
                      allow_failed_imports=False)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=True,
                       milestones=[1], gamma=0.1)
custom_hooks = [dict(type='TraceAndKillHook', trace_file='', kill_at=-1)]
randomness = dict(seed=0, deterministic=True)
"""
    return write_tiny_distill_config(
        path, data_root, max_epochs=max_epochs, seed=0,
        teacher_ckpt=teacher_ckpt, adapters=True, val_interval=1,
        checkpoint_hook=(',\n    checkpoint=dict('
                         f'interval={checkpoint_interval}, '
                         'by_epoch=False, max_keep_ckpts=-1)'),
        extra=reliability + textwrap.dedent(extra))


# --- CRD ---------------------------------------------------------------------


def crd_tiny_train_args(root, work_dir, *extra):
    """``tools/train.py`` arguments for a CRD config on a tiny MIT Indoor 67
    tree: only data root, loaders, 32 px crops, 4 classes, 8-row memory bank,
    one epoch and a random teacher change; the rest is the config's."""
    options = [
        f'train_dataloader.dataset.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.dataset.num_classes=4',
        'model.architecture.head.num_classes=4',
        'model.teacher.head.num_classes=4',
        'model.distiller.distill_losses.loss_crd.sample_n=8',
        'model.teacher_ckpt=None', 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.append(f'{loader}.num_workers=0')
        dataset = f'{loader}.dataset' + '.dataset' * ('train' in loader)
        options += [f'{dataset}.pipeline.1.scale=36',
                    f'{dataset}.pipeline.2.crop_size=32']
    return ['--work-dir', work_dir, '--cfg-options'] + options + list(extra)


def types_where(node, predicate: Callable[[str], bool],
                where: str = 'cfg') -> List[str]:
    """``'path: type'`` for every string ``type`` in the config dict
    ``node`` (nested dicts, lists and tuples) for which ``predicate``
    holds."""
    found = []
    if isinstance(node, dict):
        name = node.get('type')
        if isinstance(name, str) and predicate(name):
            found.append(f'{where}: {name}')
        for key, value in node.items():
            found += types_where(value, predicate, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += types_where(value, predicate, f'{where}[{i}]')
    return found


def untrained_arm_config(arm, settings: dict):
    """The Config of demo arm ``arm`` (a ``DemoMethod``) as its job at
    ``settings`` would run it, without the weights a real run loads (no
    teacher checkpoint, no initial student): it builds as it is."""
    from dctkd_mm.demo import training
    job = training.student_job(arm, settings, '/d', 0, 'init.pth', None,
                               '/w')
    cfg, _ = training.load_run_config(job['config'], job['options'])
    cfg.model.pop('teacher_ckpt', None)
    cfg.model.get('architecture', cfg.model).pop('init_cfg')
    return cfg
