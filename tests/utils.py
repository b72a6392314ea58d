"""Builders for tiny on-disk datasets and configs shared by the tests.

Import as ``from utils import ...`` (pytest puts ``tests/`` on ``sys.path``
since the folder has no ``__init__.py``).
"""
import glob
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import textwrap
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FLAGSHIP_CONFIG = osp.join(REPO_ROOT, 'configs',
                           'dct_kd_r50_r18_places365.py')

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


def _class_image(label: int, num_classes: int, size: int,
                 rng: np.random.Generator) -> np.ndarray:
    """An HxWx3 uint8 image whose mean colour encodes ``label`` (so a model
    can learn it) plus noise (so no two images are equal)."""
    hue = np.array([(label * 97) % 256, (label * 53 + 40) % 256,
                    255 * label // max(num_classes - 1, 1)], dtype=np.float32)
    noise = rng.normal(0, 25, size=(size, size, 3))
    return np.clip(hue + noise, 0, 255).astype(np.uint8)


def make_places365_tree(root: str,
                        num_classes: int = 5,
                        per_class: int = 4,
                        size: int = 40,
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

    Returns a dict with ``classes``, ``train`` and ``val`` (lists of
    ``(relative path, label)``).
    """
    import mmcv
    rng = np.random.default_rng(seed)
    classes = places365_class_names(num_classes)
    train: List[Tuple[str, int]] = []
    val: List[Tuple[str, int]] = []
    val_index = 0
    for label, name in enumerate(classes):
        for i in range(per_class):
            rel = f'{name}/{i + 1:08d}.jpg'
            mmcv.imwrite(
                _class_image(label, num_classes, size, rng),
                osp.join(root, 'data_256', rel.lstrip('/')))
            train.append((rel, label))
        for _ in range(val_per_class):
            val_index += 1
            rel = f'Places365_val_{val_index:08d}.jpg'
            mmcv.imwrite(
                _class_image(label, num_classes, size, rng),
                osp.join(root, 'val_256', rel))
            val.append((rel, label))

    def write(name: str, lines: Sequence[str]) -> None:
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    write('categories_places365.txt',
          [f'{n} {i}' for i, n in enumerate(classes)])
    write('places365_train_standard.txt', [f'{p} {c}' for p, c in train])
    write('places365_val.txt', [f'{p} {c}' for p, c in val])
    return dict(classes=classes, train=train, val=val)


def write_tiny_distill_config(path: str,
                              data_root: str,
                              num_classes: int = 5,
                              img_size: int = 32,
                              batch_size: int = 4,
                              max_epochs: int = 1,
                              seed: Optional[int] = None,
                              extra: str = '') -> str:
    """Write a config inheriting the flagship R50->R18 DCT-KD config with a
    tiny dataset at ``data_root`` (see :func:`make_places365_tree`), square
    ``img_size`` images, no lr schedule and no teacher checkpoint (a random
    teacher: gating still lets some samples through).

    ``seed`` None keeps the flagship's (a random seed, which the runner and
    samplers share across ranks). ``extra`` is appended verbatim.
    """
    text = f"""
    _base_ = [{FLAGSHIP_CONFIG!r}]

    num_classes = {num_classes}
    model = dict(
        architecture=dict(head=dict(num_classes=num_classes)),
        teacher=dict(head=dict(num_classes=num_classes)),
        teacher_ckpt=None)

    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=({img_size}, {img_size})),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=({img_size}, {img_size})),
        dict(type='PackInputs'),
    ]
    train_dataloader = dict(
        batch_size={batch_size}, num_workers=0, persistent_workers=False,
        dataset=dict(
            type='Places365', data_root={data_root!r}, split='train',
            pipeline=train_pipeline))
    val_dataloader = dict(
        batch_size={batch_size}, num_workers=0, persistent_workers=False,
        dataset=dict(
            type='Places365', data_root={data_root!r}, split='val',
            pipeline=test_pipeline))
    test_dataloader = val_dataloader

    optim_wrapper = dict(optimizer=dict(lr=0.01))
    param_scheduler = []
    train_cfg = dict(max_epochs={max_epochs}, val_interval={max_epochs})
    default_hooks = dict(logger=dict(interval=1))
    randomness = dict(seed={seed!r})
    """
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text) + textwrap.dedent(extra))
    return path


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
