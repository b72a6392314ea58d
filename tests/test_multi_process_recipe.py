"""The authors' recipe on several processes (issue 18; docs/training.md,
"From one GPU to a cluster"), on CPU over gloo, through the flagship
config: ``tools/train.py --keep-global-batch`` derives the per-process
batch from the recipe's global batch (``auto_scale_lr.base_batch_size``),
a run that would change the global batch is refused, the student (not the
frozen teacher) gets SyncBatchNorm, and the environment log is truthful
without CUDA.

Two launches share one work_dir, as a user would start them on machines
without a GPU: epoch 1 through the README's ``tools/dist_train.sh CONFIG
2`` (one node, two processes, validation under DDP; ranks end with
identical students on disjoint shards, ``tools/dist_test.sh`` reproduces
the validation), then its resume for epoch 2 through the cluster form
(``NNODES=2`` / ``NODE_RANK``, two "nodes" of one process each on
loopback): the same world size in another launch form, one checkpoint per
epoch.

PyTorch's SyncBatchNorm cannot run its forward on the CPU: here the module
types are checked; a forward of the converted student needs a GPU.
"""
import glob
import json
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from dctkd_mm.apis.batch_layout import BatchLayoutError, apply_batch_layout
from dctkd_mm.compat import load_checkpoint_file
from utils import (FLAGSHIP_CONFIG, REPO_ROOT, build_model, free_port,
                   make_places365_tree, run_tool, subprocess_env,
                   train_in_process, write_tiny_distill_config)

pytestmark = pytest.mark.slow

NUM_CLASSES = 5  # top-5 accuracy needs 5 classes
NUM_TRAIN = NUM_CLASSES * 4  # 20: 10 per process, in batches of 4, 4, 2
ITERS_PER_EPOCH = 3
GLOBAL_BATCH = 8  # the tiny recipe's auto_scale_lr.base_batch_size
WORLD_SIZE = 2
METRIC_KEYS = ('accuracy/top1', 'accuracy/top5', 'accuracy/mean_class')
DIST_TRAIN = osp.join(REPO_ROOT, 'tools', 'dist_train.sh')


def launch_two_nodes(cmd_for_node, timeout=300):
    """Start node 0 and node 1 (each its own launcher process) and wait
    for both; return node 0's output. Fails with both outputs."""
    procs = [
        subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
        for cmd, env in (cmd_for_node(rank) for rank in (0, 1))
    ]
    outs = []
    try:
        for proc in procs:
            outs.append(proc.communicate(timeout=timeout)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], f'exit codes {codes}:\n' + '\n'.join(
        f'--- node {r} ---\n{o[-6000:]}' for r, o in enumerate(outs))
    return outs[0]


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('recipe')
    data_root = str(root / 'places365')
    make_places365_tree(data_root, num_classes=NUM_CLASSES, per_class=4,
                        val_per_class=2)
    # batch_size=6 per process in the file: --keep-global-batch replaces
    # it by 8 // 2 = 4. The seed is left random, so ranks must agree on
    # it. Without SyncBuffersHook each rank would keep the BN statistics
    # of its own shard (MMEngine's DDP wrapper does not broadcast them).
    config = write_tiny_distill_config(
        str(root / 'tiny_flagship.py'), data_root, num_classes=NUM_CLASSES,
        batch_size=6, extra=f"""
custom_imports = dict(imports=['dctkd_mm', 'state_dump_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='StudentStateDumpHook')]
auto_scale_lr = dict(base_batch_size={GLOBAL_BATCH})
""")
    return dict(root=root, config=config)


@pytest.fixture(scope='module')
def runs(tiny):
    """Epoch 1 (validated) through ``dist_train.sh CONFIG 2``, then a
    resume for epoch 2 through dist_train.sh with NNODES=2 / NODE_RANK
    and 1 process per node; one shared work_dir."""
    work_dir = str(tiny['root'] / 'work_dir')
    args = ['--work-dir', work_dir, '--keep-global-batch']
    first = run_tool(
        ['bash', DIST_TRAIN, tiny['config'], str(WORLD_SIZE), *args],
        env=subprocess_env(PORT=str(free_port()), PYTHON=sys.executable))
    port = str(free_port())

    def node(rank):
        env = subprocess_env(NNODES='2', NODE_RANK=str(rank),
                             MASTER_ADDR='127.0.0.1', PORT=port,
                             PYTHON=sys.executable)
        return (['bash', DIST_TRAIN, tiny['config'], '1', *args,
                 '--no-validate', '--resume',
                 '--cfg-options', 'train_cfg.max_epochs=2'], env)

    resumed = launch_two_nodes(node)
    return dict(config=tiny['config'], work_dir=work_dir, first=first,
                resumed=resumed)


def scalars_per_run(work_dir):
    """``LocalVisBackend``'s records of each run in ``work_dir``, oldest
    first (one ``{timestamp}/vis_data/scalars.json`` per launch)."""
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            runs.append([json.loads(line) for line in f if line.strip()])
    assert len(runs) == 2, f'expected 2 runs in {work_dir}'
    return runs


def validation_records(work_dir):
    return [r for run in scalars_per_run(work_dir) for r in run
            if 'accuracy/top1' in r]


def load_dump(work_dir, stage, epoch, rank):
    return torch.load(
        osp.join(work_dir, f'student_{stage}_epoch{epoch}_rank{rank}.pth'),
        map_location='cpu')


def checkpoint_student(work_dir, epoch):
    ckpt = load_checkpoint_file(osp.join(work_dir, f'epoch_{epoch}.pth'))
    return {
        k[len('architecture.'):]: v
        for k, v in ckpt['state_dict'].items()
        if k.startswith('architecture.')
    }


def assert_same_state(a, b, what):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{what}: {len(different)} tensors differ, ' \
        f'e.g. {different[:5]}'


def test_dist_train_ranks_end_with_identical_students(runs):
    """Epoch 1 (one node, 2 processes): same initial and trained student
    on both ranks, weights and BN statistics moved, and the checkpoint
    rank 0 wrote is that student."""
    work_dir = runs['work_dir']
    before = [load_dump(work_dir, 'before', 0, r) for r in range(WORLD_SIZE)]
    after = [load_dump(work_dir, 'after', 1, r) for r in range(WORLD_SIZE)]

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
    assert_same_state(checkpoint_student(work_dir, 1), after[0],
                      'checkpoint vs. rank 0')


def test_sampler_shards_do_not_overlap(runs):
    """Each epoch (each launch form) the ranks get disjoint halves: the
    shuffle seed is shared, so together they see each image once."""
    for epoch in (0, 1):
        shards = []
        for rank in range(WORLD_SIZE):
            with open(osp.join(runs['work_dir'],
                               f'sampler_epoch{epoch}_rank{rank}.json')) as f:
                shards.append(json.load(f))
        assert [len(s) for s in shards] == [NUM_TRAIN // WORLD_SIZE] * 2
        assert sorted(shards[0] + shards[1]) == list(range(NUM_TRAIN))


def test_keep_global_batch_splits_the_recipe_batch(runs):
    log = runs['first']
    assert 'global batch: 8\n' in log
    assert 'per-process batch: 4\n' in log  # B / 2, not the file's 6
    assert 'world size: 2\n' in log
    assert 'accumulation (optim_wrapper.accumulative_counts): 1' in log
    assert 'lr: 0.01\n' in log  # the recipe's, not rescaled
    assert 'BN synchronised: no (PyTorch\'s SyncBatchNorm needs CUDA' in log
    assert 'NOTE: the global batch' not in log
    iters = [r['iter'] for r in scalars_per_run(runs['work_dir'])[0]
             if 'loss' in r]
    assert max(iters) == ITERS_PER_EPOCH


def test_environment_log_is_truthful_without_cuda(runs):
    log = runs['first']
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert "'backend': 'nccl'" not in log
    assert 'GPU number' not in log
    assert 'Process number (no CUDA): 2' in log
    assert 'Distributed training: True' in log


def test_dist_train_validates_under_ddp(runs):
    """Epoch 1 validated once (teacher and student); the resume ran with
    --no-validate."""
    val_logs = validation_records(runs['work_dir'])
    assert len(val_logs) == 1
    for key in METRIC_KEYS:
        assert f'teacher.{key}' in val_logs[0]
        assert 0 <= val_logs[0][key] <= 100


def test_two_nodes_checkpoint_once_and_resume(runs):
    """The 2-node launch resumes the 1-node one at the same world size:
    both ranks start from epoch 1's student, end identical, and rank 0
    alone writes the checkpoints."""
    work_dir = runs['work_dir']
    # Each epoch's checkpoint written once (by rank 0), nothing else
    # (student_*_rank*.pth are the test hook's per-rank dumps), and the
    # best one of the validated epoch 1 (save_best='auto').
    assert sorted(
        osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))
        if not osp.basename(p).startswith('student_')) == [
            'best_accuracy_top1_epoch_1.pth', 'epoch_1.pth', 'epoch_2.pth']
    log = runs['resumed']
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in log
    assert 'global batch: 8\n' in log and 'world size: 2\n' in log
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_2.pth'))
    # Epoch 2 went on at the recipe's global batch: 3 more iterations.
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (
        2, 2 * ITERS_PER_EPOCH)
    epoch_1 = checkpoint_student(work_dir, 1)
    for rank in range(WORLD_SIZE):
        assert_same_state(load_dump(work_dir, 'before', 1, rank), epoch_1,
                          f'rank {rank} resumed vs. epoch_1.pth')
        assert_same_state(load_dump(work_dir, 'after', 2, rank),
                          checkpoint_student(work_dir, 2),
                          f'rank {rank} vs. epoch_2.pth')


def test_dist_test_reproduces_validation(runs, tmp_path):
    out = str(tmp_path / 'metrics.pkl')
    run_tool([
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), runs['config'],
        osp.join(runs['work_dir'], 'epoch_1.pth'),
        str(WORLD_SIZE), '--work-dir',
        str(tmp_path / 'work_dir'), '--out', out, '--out-item', 'metrics',
        '--cfg-options', 'test_cfg.evaluate_teacher=False'
    ], env=subprocess_env(PORT=str(free_port()), PYTHON=sys.executable))
    with open(out, 'rb') as f:
        metrics = pickle.load(f)
    val_metrics = validation_records(runs['work_dir'])[0]
    # Student only (evaluate_teacher=False), same numbers as validation:
    # the checkpoint holds the synchronised weights validation used.
    assert metrics == pytest.approx({k: val_metrics[k] for k in METRIC_KEYS})


def test_1xb128_config_on_two_processes_is_refused(tiny, monkeypatch):
    """The flagship (1 x 128) as torchrun starts each of 2 processes,
    without --keep-global-batch: refused before any runner or process
    group exists (in-process: the check reads only the environment)."""
    for key, value in dict(WORLD_SIZE='2', RANK='0', LOCAL_RANK='0',
                           MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(BatchLayoutError) as info:
        train_in_process([FLAGSHIP_CONFIG, '--launcher', 'pytorch',
                          '--work-dir', str(tiny['root'] / 'refused')])
    message = str(info.value)
    assert 'global batch 256' in message and 'global batch 128' in message
    for way_out in ('--keep-global-batch', '--auto-scale-lr',
                    'auto_scale_lr.base_batch_size='):
        assert way_out in message
    assert not torch.distributed.is_initialized()
    assert not osp.exists(str(tiny['root'] / 'refused'))


def test_layouts_of_the_flagship():
    """1x128 .. 16x8 keep global batch 128 and lr 0.1; --auto-scale-lr
    says the lr it uses; a batch that does not divide is refused."""
    for world in (1, 2, 4, 8, 16):
        cfg = Config.fromfile(FLAGSHIP_CONFIG)
        layout = apply_batch_layout(cfg, world, keep_global_batch=True)
        assert cfg.train_dataloader.batch_size == 128 // world
        assert (layout.global_batch, layout.lr) == (128, 0.1)
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    cfg.optim_wrapper.accumulative_counts = 2
    layout = apply_batch_layout(cfg, 8, keep_global_batch=True)
    assert (cfg.train_dataloader.batch_size, layout.global_batch) == (8, 128)
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    layout = apply_batch_layout(cfg, 8, auto_scale_lr=True)
    assert layout.global_batch == 1024 and layout.lr == pytest.approx(0.8)
    assert 'lr: 0.8 (--auto-scale-lr' in layout.describe()
    cfg = Config.fromfile(FLAGSHIP_CONFIG)  # already the recipe's batch
    cfg.optim_wrapper.accumulative_counts = 2
    layout = apply_batch_layout(cfg, 8, keep_global_batch=True,
                                auto_scale_lr=True)
    assert layout.lr == 0.1 and cfg.auto_scale_lr.enable is False
    with pytest.raises(BatchLayoutError, match='does not divide'):
        apply_batch_layout(Config.fromfile(FLAGSHIP_CONFIG), 3,
                           keep_global_batch=True)


def test_syncbn_for_the_student_only():
    """With CUDA and 2 processes the student's BN layers become
    SyncBatchNorm and the frozen teacher's stay BatchNorm (types only:
    SyncBatchNorm's forward needs a GPU). Without CUDA nothing changes."""
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    cfg.model.teacher_ckpt = None
    layout = apply_batch_layout(cfg, 2, keep_global_batch=True,
                                cuda_available=True)
    assert layout.sync_bn and cfg.model.sync_student_bn is True
    model = build_model(cfg)

    def bn_types(module):
        return {type(m) for m in module.modules()
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}

    assert bn_types(model.architecture) == {torch.nn.SyncBatchNorm}
    assert bn_types(model.teacher) == {torch.nn.BatchNorm2d}
    model.train()  # the teacher stays frozen, its BN in eval mode
    assert model.architecture.training
    assert not any(m.training for m in model.teacher.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))

    cpu_cfg = Config.fromfile(FLAGSHIP_CONFIG)
    layout = apply_batch_layout(cpu_cfg, 2, keep_global_batch=True,
                                cuda_available=False)
    assert not layout.sync_bn and 'sync_student_bn' not in cpu_cfg.model
