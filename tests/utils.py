"""The one support module of the tests: tiny on-disk data in the official
Places365 layout, tiny configs inheriting the real flagship config, and
ways to run the tools (in a subprocess or in this process).

Import as ``from utils import ...``: ``pytest.ini`` puts ``tests/`` (and
``tests/reliability/``, for the test-only hooks configs import) on
``sys.path``. Everything is small enough for a 2-core CPU: 32 px crops of
40 px images, 4 classes of 4 training images.
"""
import collections
import glob
import io
import json
import os
import os.path as osp
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import zipfile
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(TESTS_DIR)
#: Folders holding modules that test configs import (``custom_imports``).
TEST_MODULE_DIRS = (TESTS_DIR, osp.join(TESTS_DIR, 'reliability'))
FLAGSHIP_CONFIG = osp.join(REPO_ROOT, 'configs',
                           'dct_kd_r50_r18_places365.py')
TEACHER_CONFIG = osp.join(REPO_ROOT, 'configs', 'teachers',
                          'resnet50_in1k-pre_1xb128-70e_places365.py')

NUM_CLASSES = 4
PER_CLASS = 4
BATCH = 4
ITERS_PER_EPOCH = NUM_CLASSES * PER_CLASS // BATCH
#: Teacher channels of ResNet-50's four stages, for the adapters.
TEACHER_CHANNELS = (256, 512, 1024, 2048)



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


# --- data ------------------------------------------------------------------

# Official Places365 class names look like ``/a/airfield`` or
# ``/b/bakery/shop``; a few real ones keep the multi-level case covered.
_PLACES365_NAMES = ('/a/airfield', '/b/bakery/shop', '/c/canyon',
                    '/d/desert/sand', '/f/forest_path', '/h/harbor',
                    '/k/kitchen', '/l/library/indoor')


def places365_class_names(num_classes: int) -> List[str]:
    """``num_classes`` Places365-style category names, real ones first."""
    names = list(_PLACES365_NAMES[:num_classes])
    names += [f'/z/zone_{i:03d}' for i in range(len(names), num_classes)]
    return names


def _class_image(label: int, num_classes: int, size: Tuple[int, int],
                 rng: np.random.Generator) -> np.ndarray:
    """An HxWx3 uint8 image whose mean colour encodes ``label`` (so a model
    can learn it) plus noise (so no two images are equal)."""
    hue = np.array([(label * 97) % 256, (label * 53 + 40) % 256,
                    255 * label // max(num_classes - 1, 1)], dtype=np.float32)
    noise = rng.normal(0, 25, size=(*size, 3))
    return np.clip(hue + noise, 0, 255).astype(np.uint8)


def make_places365_tree(root: str,
                        num_classes: int = NUM_CLASSES,
                        per_class: int = PER_CLASS,
                        size: Union[int, Tuple[int, int]] = 40,
                        val_per_class: int = 2,
                        seed: int = 0) -> Dict[str, object]:
    """Write a tiny Places365-Standard tree in the official layout::

        root/
          categories_places365.txt       "/a/airfield 0"
          places365_train_standard.txt   "/a/airfield/00000001.jpg 0"
          places365_val.txt              "Places365_val_00000001.jpg 0"
          data_256/a/airfield/00000001.jpg ...
          val_256/Places365_val_00000001.jpg ...

    ``dctkd_mm``'s ``Places365(data_root=root, split=...)`` reads it.
    ``size`` is the side, or ``(height, width)`` for non-square images.

    Returns a dict with ``root``, ``classes``, ``train`` and ``val`` (lists
    of ``(relative path, label)``), ``train_files`` and ``val_files``
    (absolute paths).
    """
    import mmcv
    size = (size, size) if isinstance(size, int) else tuple(size)
    rng = np.random.default_rng(seed)
    classes = places365_class_names(num_classes)
    train: List[Tuple[str, int]] = []
    val: List[Tuple[str, int]] = []
    train_files, val_files = [], []
    val_index = 0
    for label, name in enumerate(classes):
        for i in range(per_class):
            rel = f'{name}/{i + 1:08d}.jpg'
            path = osp.join(root, 'data_256', rel.lstrip('/'))
            mmcv.imwrite(_class_image(label, num_classes, size, rng), path)
            train.append((rel, label))
            train_files.append(path)
        for _ in range(val_per_class):
            val_index += 1
            rel = f'Places365_val_{val_index:08d}.jpg'
            path = osp.join(root, 'val_256', rel)
            mmcv.imwrite(_class_image(label, num_classes, size, rng), path)
            val.append((rel, label))
            val_files.append(path)

    def write(name: str, lines: Sequence[str]) -> None:
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    write('categories_places365.txt',
          [f'{n} {i}' for i, n in enumerate(classes)])
    write('places365_train_standard.txt', [f'{p} {c}' for p, c in train])
    write('places365_val.txt', [f'{p} {c}' for p, c in val])
    return dict(root=root, classes=classes, train=train, val=val,
                train_files=train_files, val_files=val_files)


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
    reliability = f"""
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
        checkpoint_hook=(f',\n    checkpoint=dict(interval={checkpoint_interval}, '
                         'by_epoch=False, max_keep_ckpts=-1)'),
        extra=reliability + textwrap.dedent(extra))


# --- models ------------------------------------------------------------------


def build_model(cfg, seed: int = 0):
    """Build the distiller of ``cfg`` (with the top-level
    ``data_preprocessor``, as the Runner builds it) with random weights and
    non-trivial BN statistics (so exporting them matters), in eval mode."""
    import copy
    from mmengine.registry import MODELS, DefaultScope
    torch.manual_seed(seed)
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    # PyTorch's default init is random enough; init_weights only logs.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    model.eval()  # the distiller's train() returns None, not self
    return model


def save_runner_checkpoint(model, path: str, classes: Sequence[str]) -> None:
    """A checkpoint shaped like the runner's: meta, state_dict, optimizer
    state and a message hub holding MMEngine's HistoryBuffer."""
    from mmengine.logging import HistoryBuffer
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    model.train()
    loss = sum(p.sum() for p in params[:3])
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    model.eval()
    history = HistoryBuffer()
    history.update(1.5)
    torch.save(
        dict(meta=dict(epoch=1, iter=10,
                       dataset_meta=dict(classes=tuple(classes)),
                       cfg='distillation config text'),
             state_dict=model.state_dict(),
             optimizer=optimizer.state_dict(),
             message_hub=dict(log_scalars=dict(loss=history))), path)


# --- running tools -----------------------------------------------------------


@contextmanager
def runner_state_restored():
    """Undo the process-wide state an in-process MMEngine run or inferencer
    leaves behind (default registry scope, deterministic algorithms, thread
    count), so other tests in this process see none of it."""
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
    from dctkd_mm.apis.train_cli import main
    with runner_state_restored():
        return main(argv)


def subprocess_env(**extra: str) -> Dict[str, str]:
    """Environment for a tool subprocess: the test-only modules importable,
    one thread (so runs side by side stay bit-identical), no GPU."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        list(TEST_MODULE_DIRS) + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='', PYTHONHASHSEED='0')
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now (for MASTER_PORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(cmd: Sequence[str],
             env: Optional[Dict[str, str]] = None,
             timeout: float = 600,
             cwd: Optional[str] = None) -> str:
    """Run a tool (``python tools/train.py ...``, ``bash tools/dist_*.sh``)
    and return its combined output; fail with the output's tail if it
    exits non-zero.

    It runs in its own process group, killed whole on timeout, so a hung
    rank of a distributed job does not outlive the test.
    """
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO_ROOT,
        text=True,
        start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f'{" ".join(cmd)} timed out after {timeout}s:'
                             f'\n{out[-5000:]}')
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited with '
                             f'{proc.returncode}:\n{out[-8000:]}')
    return out


def read_scalars(work_dir: str) -> List[dict]:
    """The records ``LocalVisBackend`` logged during a run in ``work_dir``
    (``{timestamp}/vis_data/scalars.json``, one JSON object a line)."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, f'expected one run in {work_dir}, got {files}'
    with open(files[0]) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_test_metrics(work_dir: str) -> dict:
    """The metrics ``tools/test.py`` logged in ``work_dir``
    (``{timestamp}/{timestamp}.json``), without the timing entries."""
    files = glob.glob(osp.join(work_dir, '*', '*.json'))
    assert len(files) == 1, f'expected one test run in {work_dir}: {files}'
    with open(files[0]) as f:
        metrics = json.load(f)
    return {k: v for k, v in metrics.items() if k not in ('time', 'data_time')}


# --- background training runs (reliability) ----------------------------------

TRAIN_TOOL = osp.join(REPO_ROOT, 'tools', 'train.py')
TIMEOUT = 600


def train_command(config: str, work_dir: str, *args: str) -> List[str]:
    return [sys.executable, TRAIN_TOOL, config, '--work-dir', work_dir, *args]


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


# --- CIFAR-10 (official layout) and MMClassification 0.x checkpoints --------

#: MMPretrain's CIFAR10 checks the md5 of the official files; a written tree
#: cannot match them. ``None`` is MMPretrain's own "no check" value.
CIFAR10_MD5_OFF = dict(
    train_list=[[f'data_batch_{i}', None] for i in range(1, 6)],
    test_list=[['test_batch', None]],
    meta={'filename': 'batches.meta', 'key': 'label_names', 'md5': None})


def write_cifar10_tree(root: str, per_batch: int = 2, test_size: int = 4,
                       seed: int = 0) -> str:
    """``root/cifar-10-batches-py/`` as the official python archive
    unpacks: ``data_batch_1..5`` and ``test_batch`` (pickled dicts with
    ``batch_label``, ``labels``, ``data`` (N, 3072) uint8 in CHW order and
    ``filenames``) and ``batches.meta`` (``label_names``,
    ``num_cases_per_batch``, ``num_vis``), pickle protocol 2 like the
    Python 2 originals. Images get a class-dependent colour. Returns
    ``root``."""
    import pickle
    names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
             'horse', 'ship', 'truck']
    rng = np.random.default_rng(seed)
    folder = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)

    def batch(label_name: str, n: int, offset: int) -> dict:
        labels = [int(x) for x in (np.arange(n) + offset) % 10]
        data = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        for i, label in enumerate(labels):
            data[i, label % 3] //= 2
        return {'batch_label': label_name, 'labels': labels,
                'data': data.reshape(n, 3072),
                'filenames': [f'img_{offset + i:05d}.png' for i in range(n)]}

    files = {f'data_batch_{i}': batch(f'training batch {i} of 5', per_batch,
                                      (i - 1) * per_batch)
             for i in range(1, 6)}
    files['test_batch'] = batch('testing batch 1 of 1', test_size, 0)
    files['batches.meta'] = {'num_cases_per_batch': per_batch,
                             'label_names': names, 'num_vis': 3072}
    for name, content in files.items():
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(content, f, protocol=2)
    return root


def save_mmcls_checkpoint(model: torch.nn.Module, path: str,
                          classes: Sequence[str], legacy: bool = True) -> str:
    """Save ``model`` as MMClassification 0.x published it: mmcv's
    ``save_checkpoint`` dict ``{'meta', 'state_dict'}`` (``meta``: the
    runner's meta -- env_info, config text, seed, exp_name, mmcls_version,
    CLASSES, hook_msgs, epoch, iter -- plus mmcv_version and time), the
    optimizer removed by ``publish_model.py``, which writes the legacy
    (non-zip) format."""
    meta = dict(
        env_info='sys.platform: linux\nPython: 3.7.10\nPyTorch: 1.8.1',
        config="model = dict(type='ImageClassifier', ...)\n",
        seed=1234, exp_name='resnet50_b16x8_cifar10.py',
        mmcls_version='0.12.0', CLASSES=list(classes),
        hook_msgs=dict(last_ckpt='work_dirs/epoch_200.pth'),
        epoch=200, iter=78200, mmcv_version='1.3.3',
        time='Fri May 28 10:00:00 2021')
    checkpoint = dict(meta=meta, state_dict=model.state_dict())
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return path


# --- tiny scene trees in each official layout --------------------------------
# tests/test_datasets.py (docs/datasets.md) and
# tests/test_dataset_listing_checks.py (issue 17 F13). Paths are pathlib.
def write_tree_file(path, text=None):
    """A text file, or a 12x10 JPEG (unique colour) when ``text`` is None."""
    import cv2
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    if text is None:
        colour = abs(hash(str(path))) % 200
        assert cv2.imwrite(str(path), np.full((10, 12, 3), colour, np.uint8))
    else:
        with open(path, 'w') as f:
            f.write(text)


CATEGORIES = ('/a/airfield 0\n/a/apartment_building/outdoor 1\n'
              '/b/bus_interior 2\n')
TRAIN = ('/a/airfield/00000001.jpg 0\n/a/airfield/00000002.jpg 0\n'
         '/a/apartment_building/outdoor/00000001.jpg 1\n'
         '/b/bus_interior/00000001.jpg 2\n')
VAL = ('Places365_val_00000001.jpg 2\nPlaces365_val_00000002.jpg 0\n'
       'Places365_val_00000003.jpg 1\n')


def make_places365(root, sizes=('256', )):
    write_tree_file(root / 'categories_places365.txt', CATEGORIES)
    write_tree_file(root / 'places365_train_standard.txt', TRAIN)
    write_tree_file(root / 'places365_val.txt', VAL)
    for size in sizes:
        for line in TRAIN.split('\n')[:-1]:
            write_tree_file(
                root / f'data_{size}' / line.split()[0].lstrip('/'))
        for line in VAL.split('\n')[:-1]:
            write_tree_file(root / f'val_{size}' / line.split()[0])
    return root


SCENES = ('ADE_train_00000001 airport_terminal\n'
          'ADE_train_00000002 bathroom\n'
          'ADE_train_00000003 airport_terminal\n'
          'ADE_val_00000001 bathroom\n'
          'ADE_val_00000002 abbey\n')  # abbey: only in val


def make_ade20k(root):
    write_tree_file(root / 'sceneCategories.txt', SCENES)
    for line in SCENES.split('\n')[:-1]:
        name = line.split()[0]
        folder = 'training' if 'train' in name else 'validation'
        write_tree_file(root / 'images' / folder / f'{name}.jpg')
    return root


MIT_TRAIN = ('gameroom/bt_132294gameroom2.jpg\nkitchen/int474.jpg\n'
             'airport_inside/airport inside 0001.jpg\n')
MIT_TEST = 'kitchen/int475.jpg\ngameroom/bt_1.jpg\n'


def make_mit67(root):
    write_tree_file(root / 'TrainImages.txt', MIT_TRAIN)
    # CRLF endings, as in files saved on Windows.
    write_tree_file(root / 'TestImages.txt', MIT_TEST.replace('\n', '\r\n'))
    for line in (MIT_TRAIN + MIT_TEST).split('\n')[:-1]:
        write_tree_file(root / 'Images' / line)
    write_tree_file(root / 'Images' / 'kitchen' / 'unlisted.jpg')
    os.makedirs(root / 'Images' / '.hidden_dir')
    return root


# --- crafted checkpoint files (issue 17; tests/reliability/
# test_reliability_plain_data.py and test_reliability_crafted_files.py) ---
def array_interface_dict(typestr: str, shape: int) -> collections.OrderedDict:
    """An OrderedDict that NumPy would read as an array at address 8."""
    od = collections.OrderedDict(a=1)
    od.__dict__['__array_interface__'] = dict(
        typestr=typestr, shape=(shape, ), data=(8, False), version=3)
    return od


def history_buffer_holding(value):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.0)
    buffer.__dict__['_log_history'] = value
    return buffer


class Forged:
    """Pickles as ``func(*args)`` (+ ``BUILD`` with ``state``)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args, self.state)


def checkpoint_with(payload) -> dict:
    return dict(meta=dict(epoch=1, iter=4), state_dict={}, x=payload)


def zip_with_pickle(path, data_pkl: bytes) -> str:
    """A genuine zip checkpoint whose data.pkl is replaced by ``data_pkl``
    (CRCs right, so only the pickle is at fault)."""
    buffer = io.BytesIO()
    torch.save({}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith('/data.pkl'):
                data = data_pkl
            dst.writestr(info, data)
    return str(path)


def legacy_with_pickle(path, main_pickle: bytes) -> str:
    """A legacy (non-zip) checkpoint around ``main_pickle``."""
    head = b''.join(
        pickle.dumps(v, protocol=2)
        for v in (0x1950a86a20f9469cfc6c, 1001,
                  dict(protocol_version=1001, little_endian=True,
                       type_sizes=dict(short=2, int=4, long=4))))
    with open(path, 'wb') as f:
        f.write(head + main_pickle + pickle.dumps([], protocol=2))
    return str(path)


# Only opcodes PyTorch's weights_only unpickler supports (no POP, no LIST):
# the lists built on the way stay on the stack, and the dict (memo 1) is
# fetched last so STOP returns it.


# --- scene trees with a short last batch (tests/test_zoo_ckd.py) ------------


def make_ade20k_scenes(root, num_train: int = 5) -> int:
    """An ADE20K tree in the official layout with ``num_train`` training
    images over 2 scenes and 2 val images (one scene only in val); returns
    the class count (3)."""
    scenes = [(f'ADE_train_{i:08d}', ('bathroom', 'kitchen')[i % 2])
              for i in range(1, num_train + 1)]
    scenes += [('ADE_val_00000001', 'kitchen'), ('ADE_val_00000002', 'abbey')]
    write_tree_file(root / 'sceneCategories.txt',
                    ''.join(f'{n} {c}\n' for n, c in scenes))
    for name, _ in scenes:
        split = 'training' if 'train' in name else 'validation'
        write_tree_file(root / 'images' / split / f'{name}.jpg')
    return 3


def make_mit67_scenes(root, num_train: int = 5) -> int:
    """An MIT Indoor 67 tree in the official layout with ``num_train``
    training and 3 test images over 3 classes; returns the class count."""
    classes = ('bar', 'gameroom', 'kitchen')
    train = [f'{classes[i % 3]}/{classes[i % 3]}_{i}.jpg'
             for i in range(num_train)]
    test = [f'{c}/{c}_test.jpg' for c in classes]
    write_tree_file(root / 'TrainImages.txt', '\n'.join(train) + '\n')
    write_tree_file(root / 'TestImages.txt', '\n'.join(test) + '\n')
    for line in train + test:
        write_tree_file(root / 'Images' / line)
    return len(classes)


# --- the authors' SemCKD (tests/test_zoo_ckd.py) -----------------------------
# Their ``Distillation Zoo/SemCKD.py`` and ``selfAT.py`` (from SemCKD's own
# repository), as ``Distillation.py`` applies them, re-implemented on the CPU
# in their structure and parameter names (their code calls ``.cuda()``).

_F = torch.nn.functional


class AuthorsMLPEmbed(torch.nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear1 = torch.nn.Linear(dim_in, 2 * dim_out)
        self.linear2 = torch.nn.Linear(2 * dim_out, dim_out)

    def forward(self, x):
        x = self.linear2(_F.relu(self.linear1(x.view(x.shape[0], -1))))
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))


class AuthorsAAEmbed(torch.nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        mid = 2 * c_out
        nn = torch.nn
        self.regressor = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU(), nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, c_out, 1, bias=False))

    def forward(self, x):
        return self.regressor(x)


class AuthorsSelfA(torch.nn.Module):
    def __init__(self, s_len, t_len, input_channel, s_n, t_n, factor=4):
        super().__init__()
        for i in range(t_len):
            setattr(self, f'key_weight{i}',
                    AuthorsMLPEmbed(input_channel, input_channel // factor))
        for i in range(s_len):
            setattr(self, f'query_weight{i}',
                    AuthorsMLPEmbed(input_channel, input_channel // factor))
        for i in range(s_len):
            for j in range(t_len):
                setattr(self, f'regressor{i}{j}',
                        AuthorsAAEmbed(s_n[i], t_n[j]))

    def forward(self, feat_s, feat_t):
        bsz = feat_s[0].shape[0]
        sim_t = [f.reshape(bsz, -1) @ f.reshape(bsz, -1).t() for f in feat_t]
        sim_s = [f.reshape(bsz, -1) @ f.reshape(bsz, -1).t() for f in feat_s]
        key = torch.cat([getattr(self, f'key_weight{i}')(s)[:, :, None]
                         for i, s in enumerate(sim_t)], 2)
        query = torch.cat([getattr(self, f'query_weight{i}')(s)[:, None, :]
                           for i, s in enumerate(sim_s)], 1)
        attention = _F.softmax(torch.bmm(query, key), dim=-1)
        values, targets = [], []
        for i in range(len(sim_s)):
            values.append([])
            targets.append([])
            for j in range(len(sim_t)):
                s_h, t_h = feat_s[i].shape[2], feat_t[j].shape[2]
                reg = getattr(self, f'regressor{i}{j}')
                if s_h > t_h:
                    values[i].append(
                        reg(_F.adaptive_avg_pool2d(feat_s[i], (t_h, t_h))))
                    targets[i].append(feat_t[j])
                else:
                    values[i].append(reg(feat_s[i]))
                    targets[i].append(
                        _F.adaptive_avg_pool2d(feat_t[j], (s_h, s_h)))
        return values, targets, attention


class AuthorsSemCKD(torch.nn.Module):
    def __init__(self, bs, s_n, t_n):
        super().__init__()
        self.self_attention = AuthorsSelfA(len(s_n), len(t_n), bs, s_n, t_n)

    def forward(self, s_value, f_target, weight):
        bsz, num_stu, num_tea = weight.shape
        ind_loss = torch.zeros(bsz, num_stu, num_tea, dtype=weight.dtype)
        for i in range(num_stu):
            for j in range(num_tea):
                ind_loss[:, i, j] = _F.mse_loss(
                    s_value[i][j], f_target[i][j],
                    reduction='none').reshape(bsz, -1).mean(-1)
        return (weight * ind_loss).sum() / (1.0 * bsz * num_stu)


# --- the authors' CRD (issue 20), re-implemented on the CPU for
# tests/test_zoo_crd.py ------------------------------------------------------


_CRD_EPS = 1e-7  # criterion.py's eps


class AuthorsCRD:
    """criterion.py CRDLoss (Embed, ContrastLoss) + memory.py
    ContrastMemory, with indices given (their training loop always passes
    the dataset's ``Idx`` and ``Sample Idx``)."""

    def __init__(self, embed_s, embed_t, memory_v1, memory_v2, n_data):
        self.w_s, self.w_t = list(embed_s), list(embed_t)  # weight, bias
        self.v1, self.v2 = memory_v1.clone(), memory_v2.clone()
        self.n_data, self.z_v1, self.z_v2 = n_data, -1.0, -1.0

    @staticmethod
    def embed(x, w, b):
        x = torch.nn.functional.linear(x.view(x.shape[0], -1), w, b)
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))

    def contrast_loss(self, x):
        m, pn = x.size(1) - 1, 1 / float(self.n_data)
        log_d1 = torch.div(x[:, 0], x[:, 0] + m * pn + _CRD_EPS).log()
        p_neg = x[:, 1:]
        log_d0 = torch.div(torch.full_like(p_neg, m * pn),
                           p_neg + m * pn + _CRD_EPS).log()
        return -(log_d1.sum(0) + log_d0.reshape(-1, 1).sum(0)) / x.shape[0]

    def __call__(self, f_s, f_t, idx, contrast_idx, t=0.07, momentum=0.5):
        v1 = self.embed(f_s, *self.w_s)
        v2 = self.embed(f_t, *self.w_t)
        bsz, dim = v1.shape
        w1 = self.v1[contrast_idx.view(-1)].view(bsz, -1, dim)
        w2 = self.v2[contrast_idx.view(-1)].view(bsz, -1, dim)
        out_v2 = torch.exp(torch.bmm(w1, v2.view(bsz, dim, 1)) / t)
        out_v1 = torch.exp(torch.bmm(w2, v1.view(bsz, dim, 1)) / t)
        if self.z_v1 < 0:  # fixed once, by the first batch
            self.z_v1 = (out_v1.mean() * self.n_data).item()
        if self.z_v2 < 0:
            self.z_v2 = (out_v2.mean() * self.n_data).item()
        out_v1, out_v2 = out_v1 / self.z_v1, out_v2 / self.z_v2
        with torch.no_grad():
            for bank, v in ((self.v1, v1), (self.v2, v2)):
                pos = bank[idx] * momentum + v * (1 - momentum)
                bank[idx] = pos.div(pos.pow(2).sum(1, keepdim=True).sqrt())
        return self.contrast_loss(out_v1) + self.contrast_loss(out_v2)


def authors_contrast_indices(labels, num_classes, k, rng):
    """SceneRecognitionDatasetCRD: class lists from ``range(nclasses)``
    (the quirk: the first nclasses samples only), then per sample itself
    and k negatives from ``np.random.choice``."""
    pos = [[] for _ in range(num_classes)]
    for i in range(num_classes):
        pos[labels[i]].append(i)
    neg = [[j for c in range(num_classes) if c != i for j in pos[c]]
           for i in range(num_classes)]
    out = []
    for idx, label in enumerate(labels):
        draw = rng.choice(np.asarray(neg[label]), k,
                          replace=k > len(neg[label]))
        out.append(np.hstack(([idx], draw)))
    return np.stack(out)


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
