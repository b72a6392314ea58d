"""Two-process distributed training and testing on CPU (gloo) through
tools/dist_train.sh and tools/dist_test.sh, as a user would start them on
a machine without a GPU."""
import json
import os
import os.path as osp
import pickle
import sys

import pytest
import torch
from mmengine.config import Config

from dctkd_mm.compat import load_checkpoint_file
from utils import (FLAGSHIP_CONFIG, REPO_ROOT, free_port, make_places365_tree,
                   read_scalars, run_tool, write_tiny_distill_config)

pytestmark = pytest.mark.slow

NUM_CLASSES = 5
NUM_TRAIN = NUM_CLASSES * 4
WORLD_SIZE = 2
METRIC_KEYS = ('accuracy/top1', 'accuracy/top5', 'accuracy/mean_class')


def dist_env():
    return dict(
        PYTHON=sys.executable,
        PORT=str(free_port()),
        # state_dump_hook.py, imported by the config in every rank.
        PYTHONPATH=os.pathsep.join(
            p for p in (osp.dirname(osp.abspath(__file__)),
                        os.environ.get('PYTHONPATH')) if p),
        # The CPU path even where a GPU is present.
        CUDA_VISIBLE_DEVICES='')


def extra_config() -> str:
    """Keep the flagship's custom hooks, add the per-rank dump, and make
    sure BN statistics are synchronised across ranks.

    Without ``SyncBuffersHook`` each rank keeps the BN running statistics
    of its own shard (MMEngine's DDP wrapper does not broadcast buffers);
    the parameters still match, but the whole state would not.
    """
    hooks = [
        h.to_dict()
        for h in Config.fromfile(FLAGSHIP_CONFIG).get('custom_hooks', [])
    ]
    hooks.append(dict(type='StudentStateDumpHook'))
    if not any(h.get('type') == 'SyncBuffersHook' for h in hooks):
        hooks.append(dict(type='SyncBuffersHook'))
    return (f'custom_imports = dict(imports=["dctkd_mm", "state_dump_hook"],'
            f' allow_failed_imports=False)\n'
            f'custom_hooks = {hooks!r}\n'
            # The recipe's global batch: 4 per rank x 2 ranks (tools/
            # train.py refuses another one on several processes).
            f'auto_scale_lr = dict(base_batch_size={4 * WORLD_SIZE})\n')


@pytest.fixture(scope='module')
def dist_run(tmp_path_factory):
    """One epoch on 2 ranks x 3 iterations of <= 4 images, then validation
    under DDP. The seed is left random, so ranks must agree on it."""
    root = tmp_path_factory.mktemp('dist_train')
    data_root = str(root / 'places365')
    make_places365_tree(data_root, num_classes=NUM_CLASSES, per_class=4,
                        val_per_class=2, size=40)
    config = write_tiny_distill_config(
        str(root / 'tiny_dct_kd_dist.py'), data_root,
        num_classes=NUM_CLASSES, img_size=32, batch_size=4,
        extra=extra_config())
    work_dir = str(root / 'work_dir')
    log = run_tool([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), config,
        str(WORLD_SIZE), '--work-dir', work_dir
    ], env=dist_env())
    return dict(config=config, work_dir=work_dir, log=log)


def load_dump(work_dir, stage, rank):
    return torch.load(
        osp.join(work_dir, f'student_{stage}_rank{rank}.pth'),
        map_location='cpu')


def assert_same_state(a, b, what):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{what}: {len(different)} tensors differ, ' \
        f'e.g. {different[:5]}'


def test_dist_train_ranks_end_with_identical_students(dist_run):
    work_dir = dist_run['work_dir']
    before = [load_dump(work_dir, 'before', r) for r in range(WORLD_SIZE)]
    after = [load_dump(work_dir, 'after', r) for r in range(WORLD_SIZE)]

    assert_same_state(before[0], before[1], 'initial students')
    assert_same_state(after[0], after[1], 'trained students')
    # Training did move the weights (the equality above is not vacuous).
    changed = [
        k for k in after[0] if after[0][k].is_floating_point()
        and not torch.equal(after[0][k], before[0][k])
    ]
    assert 'backbone.conv1.weight' in changed
    assert 'head.fc.weight' in changed
    assert 'backbone.bn1.running_mean' in changed

    # The checkpoint (written by rank 0) is that same student.
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'))
    student = {
        k[len('architecture.'):]: v
        for k, v in ckpt['state_dict'].items()
        if k.startswith('architecture.')
    }
    assert_same_state(student, after[0], 'checkpoint vs. rank 0')


def test_dist_train_ranks_get_disjoint_shards(dist_run):
    shards = []
    for rank in range(WORLD_SIZE):
        path = osp.join(dist_run['work_dir'],
                        f'sampler_epoch0_rank{rank}.json')
        with open(path) as f:
            shards.append(json.load(f))
    assert all(len(s) == NUM_TRAIN // WORLD_SIZE for s in shards)
    # The shuffle seed is shared: together the ranks see each image once.
    assert sorted(shards[0] + shards[1]) == list(range(NUM_TRAIN))


def test_dist_train_validates_under_ddp(dist_run):
    assert 'Distributed training: True' in dist_run['log']
    val_logs = [
        r for r in read_scalars(dist_run['work_dir'])
        if 'accuracy/top1' in r
    ]
    assert len(val_logs) == 1
    for key in METRIC_KEYS:
        assert f'teacher.{key}' in val_logs[0]
        assert 0 <= val_logs[0][key] <= 100


def test_dist_test_reproduces_validation(dist_run, tmp_path):
    out = str(tmp_path / 'metrics.pkl')
    run_tool([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), dist_run['config'],
        osp.join(dist_run['work_dir'], 'epoch_1.pth'),
        str(WORLD_SIZE), '--work-dir',
        str(tmp_path / 'work_dir'), '--out', out, '--out-item', 'metrics',
        '--cfg-options', 'test_cfg.evaluate_teacher=False'
    ], env=dist_env())
    with open(out, 'rb') as f:
        metrics = pickle.load(f)
    val_metrics = [
        r for r in read_scalars(dist_run['work_dir'])
        if 'accuracy/top1' in r
    ][0]
    # Student only (evaluate_teacher=False), same numbers as validation:
    # the checkpoint holds the synchronised weights validation used.
    assert metrics == pytest.approx({k: val_metrics[k] for k in METRIC_KEYS})
