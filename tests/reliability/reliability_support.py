"""Tiny on-disk data, a genuinely trained teacher and configs inheriting the
real flagship config, for the reliability tests.

Everything is small enough for a 2-core CPU: 32 px crops of 40 px images,
4 classes, 16 training images (4 batches of 4 per epoch).
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from typing import List, Optional

import torch

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(HERE))
FLAGSHIP = osp.join(REPO_ROOT, 'configs', 'dct_kd_r50_r18_places365.py')
TEACHER_CONFIG = osp.join(REPO_ROOT, 'configs', 'teachers',
                          'resnet50_places365.py')
TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')

NUM_CLASSES = 4
PER_CLASS = 4
BATCH = 4
ITERS_PER_EPOCH = NUM_CLASSES * PER_CLASS // BATCH
#: Teacher channels of ResNet-50's four stages, for the adapters.
TEACHER_CHANNELS = (256, 512, 1024, 2048)

_PIPELINES = """
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short'),
    dict(type='RandomCrop', crop_size=32),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
"""


def _loaders(data_root: str) -> str:
    return f"""
train_dataloader = dict(
    batch_size={BATCH}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size={BATCH}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='Accuracy', topk=(1, )),
                 dict(type='MeanClassAccuracy')]
test_evaluator = val_evaluator
"""


def make_tiny_places365(root: str) -> str:
    """The Places365 layout with 4 classes of 4 train / 2 val images."""
    sys.path.insert(0, osp.dirname(HERE))  # tests/, for utils
    try:
        from utils import make_places365_tree
    finally:
        sys.path.pop(0)
    make_places365_tree(root, num_classes=NUM_CLASSES, per_class=PER_CLASS,
                        size=40, val_per_class=2, seed=0)
    return root


def write_teacher_config(path: str, data_root: str) -> str:
    """The real ResNet-50 teacher config on the tiny data, 1 epoch."""
    text = f"""
_base_ = [{TEACHER_CONFIG!r}]
num_classes = {NUM_CLASSES}
model = dict(backbone=dict(init_cfg=None),  # no download in CI
             head=dict(num_classes={NUM_CLASSES}, topk=(1, )))
{_PIPELINES}
{_loaders(data_root)}
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
    """The flagship DCT-KD config on the tiny data, with an
    ``ActivationMapAdapter`` on the teacher side of every stage, a learning
    rate step after epoch 1, iteration checkpoints every
    ``checkpoint_interval`` iterations, deterministic randomness and the
    test-only :class:`TraceAndKillHook` (off until configured)."""
    adapters = ', '.join(f"t_amam_s{i + 1}=dict(type='ActivationMapAdapter', "
                         f'in_channels={c})'
                         for i, c in enumerate(TEACHER_CHANNELS))
    text = f"""
_base_ = [{FLAGSHIP!r}]
custom_imports = dict(imports=['dctkd_mm', 'reliability_hooks'],
                      allow_failed_imports=False)
num_classes = {NUM_CLASSES}
model = dict(
    architecture=dict(head=dict(num_classes={NUM_CLASSES}, topk=(1, ))),
    teacher=dict(head=dict(num_classes={NUM_CLASSES}, topk=(1, ))),
    teacher_ckpt={teacher_ckpt!r},
    distiller=dict(
        connectors=dict({adapters}),
        loss_forward_mappings={{
            f'loss_dct_s{{i}}': dict(
                t_feature=dict(connector=f't_amam_s{{i}}'))
            for i in (1, 2, 3, 4)
        }}))
{_PIPELINES}
{_loaders(data_root)}
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = dict(milestones=[1], gamma=0.1)
train_cfg = dict(max_epochs={max_epochs}, val_interval=1)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval={checkpoint_interval}, by_epoch=False,
                    max_keep_ckpts=-1))
custom_hooks = [dict(type='TraceAndKillHook', trace_file='', kill_at=-1)]
randomness = dict(seed=0, deterministic=True)
"""
    with open(path, 'w') as f:
        f.write(text + textwrap.dedent(extra))
    return path


def subprocess_env() -> dict:
    """Environment for a training subprocess: the test hooks importable,
    one thread (so runs side by side stay bit-identical), no GPU."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='', PYTHONHASHSEED='0')
    return env


def train_command(config: str, work_dir: str,
                  *args: str) -> List[str]:
    return [sys.executable, TRAIN, config, '--work-dir', work_dir, *args]


def start_training(config: str, work_dir: str, *args: str,
                   log_name: str = 'run.log') -> subprocess.Popen:
    """Start ``tools/train.py`` in a subprocess (output to a log file)."""
    os.makedirs(work_dir, exist_ok=True)
    log = open(osp.join(work_dir, log_name), 'w')
    return subprocess.Popen(
        train_command(config, work_dir, *args),
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT)


def log_tail(work_dir: str, log_name: str = 'run.log', lines: int = 40):
    with open(osp.join(work_dir, log_name)) as f:
        return ''.join(f.readlines()[-lines:])


TIMEOUT = 600


def finish(proc: subprocess.Popen, work_dir: str, log_name: str,
           expect_killed: bool) -> None:
    """Wait for a training subprocess; assert it was SIGKILLed or exited
    cleanly, showing the end of its log otherwise."""
    try:
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if expect_killed:
        assert code == -9, (f'run was not killed (exit {code}):\n'
                            f'{log_tail(work_dir, log_name)}')
    else:
        assert code == 0, (f'run failed (exit {code}):\n'
                           f'{log_tail(work_dir, log_name)}')


def trace_options(trace_file: str, final_state_file: str,
                  **hook) -> List[str]:
    """``--cfg-options`` configuring the test-only TraceAndKillHook."""
    hook = dict(trace_file=trace_file, final_state_file=final_state_file,
                **hook)
    return ['--cfg-options'
            ] + [f'custom_hooks.0.{k}={v}' for k, v in hook.items()]


class BackgroundRun:
    """An uninterrupted training run in a subprocess; :meth:`wait` for it
    before reading ``work_dir``, ``trace_file`` or ``final_state_file``."""

    def __init__(self, config: str, root: str) -> None:
        self.work_dir = osp.join(root, 'work')
        self.trace_file = osp.join(root, 'trace.jsonl')
        self.final_state_file = osp.join(root, 'final.pth')
        self._proc = start_training(
            config, self.work_dir,
            *trace_options(self.trace_file, self.final_state_file),
            log_name='train.log')
        self._done = False

    def wait(self) -> 'BackgroundRun':
        if not self._done:
            finish(self._proc, self.work_dir, 'train.log', False)
            self._done = True
        return self

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


@contextmanager
def runner_state_restored():
    """Undo the process-wide state an in-process MMEngine run leaves
    behind (default registry scope, deterministic algorithms), so other
    tests in this process see none of it."""
    from mmengine.registry import DefaultScope
    scopes = dict(DefaultScope._instance_dict)
    deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        DefaultScope._instance_dict = scopes
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def train_in_process(argv):
    """``tools/train.py`` main in this process (saves the ~8 s import of a
    subprocess), with global state restored afterwards."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('reliability_train_tool',
                                                  TRAIN)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    with runner_state_restored():
        return train.main(argv)
