"""The authors' recipe on several processes (issue 18; docs/training.md,
"From one GPU to a cluster"), on CPU over gloo, through the flagship
config: ``tools/train.py --keep-global-batch`` derives the per-process
batch from the recipe's global batch (``auto_scale_lr.base_batch_size``),
a run that would change the global batch is refused, the student (not the
frozen teacher) gets SyncBatchNorm, the environment log is truthful
without CUDA, and two "nodes" of one process each on loopback train,
checkpoint once and resume.

PyTorch's SyncBatchNorm cannot run its forward on the CPU: here the module
types are checked; a forward of the converted student needs a GPU.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from dctkd_mm.apis.batch_layout import BatchLayoutError, apply_batch_layout
from dctkd_mm.compat import load_checkpoint_file
from utils import (FLAGSHIP_CONFIG, NUM_CLASSES, PER_CLASS, REPO_ROOT,
                   build_model, free_port, make_places365_tree,
                   subprocess_env, train_in_process,
                   write_tiny_distill_config)

pytestmark = pytest.mark.slow

GLOBAL_BATCH = 8  # the tiny recipe's auto_scale_lr.base_batch_size
NUM_TRAIN = NUM_CLASSES * PER_CLASS  # 16: 2 iterations of 8 an epoch
TRAIN_TOOL = osp.join(REPO_ROOT, 'tools', 'train.py')


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
    make_places365_tree(data_root)
    # batch_size=6 per process in the file: --keep-global-batch replaces
    # it by 8 // 2 = 4.
    config = write_tiny_distill_config(
        str(root / 'tiny_flagship.py'), data_root, batch_size=6,
        extra=f"""
custom_imports = dict(imports=['dctkd_mm', 'state_dump_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SyncBuffersHook'),
                dict(type='StudentStateDumpHook')]
auto_scale_lr = dict(base_batch_size={GLOBAL_BATCH})
""")
    return dict(root=root, config=config)


@pytest.fixture(scope='module')
def two_nodes(tiny):
    """Epoch 1 through tools/dist_train.sh with NNODES=2 / NODE_RANK (as
    docs/training.md tells a cluster user), then a resume for epoch 2
    through two plain ``torchrun --nnodes 2`` invocations; one process per
    node, loopback, one shared work_dir."""
    work_dir = str(tiny['root'] / 'work_dir')
    port = str(free_port())

    def dist_train(rank):
        env = subprocess_env(NNODES='2', NODE_RANK=str(rank),
                             MASTER_ADDR='127.0.0.1', PORT=port,
                             PYTHON=sys.executable)
        return ([
            'bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'),
            tiny['config'], '1', '--work-dir', work_dir, '--no-validate',
            '--keep-global-batch'
        ], env)

    first = launch_two_nodes(dist_train)
    port2 = str(free_port())

    def torchrun_resume(rank):
        return ([
            sys.executable, '-m', 'torch.distributed.run', '--nnodes', '2',
            '--nproc-per-node', '1', '--node-rank', str(rank),
            '--master-addr', '127.0.0.1', '--master-port', port2,
            TRAIN_TOOL, tiny['config'], '--launcher', 'pytorch',
            '--work-dir', work_dir, '--no-validate', '--keep-global-batch',
            '--resume', '--cfg-options', 'train_cfg.max_epochs=2'
        ], subprocess_env())

    resumed = launch_two_nodes(torchrun_resume)
    return dict(work_dir=work_dir, first=first, resumed=resumed)


def test_keep_global_batch_splits_the_recipe_batch(two_nodes):
    log = two_nodes['first']
    assert 'global batch: 8\n' in log
    assert 'per-process batch: 4\n' in log  # B / 2, not the file's 6
    assert 'world size: 2\n' in log
    assert 'accumulation (optim_wrapper.accumulative_counts): 1' in log
    assert 'lr: 0.01\n' in log  # the recipe's, not rescaled
    assert 'BN synchronised: no (PyTorch\'s SyncBatchNorm needs CUDA' in log
    assert 'NOTE: the global batch' not in log
    # 16 images / (4 per process x 2) = 2 iterations an epoch.
    iters = [r['iter'] for r in read_scalars_of_first_run(two_nodes)]
    assert max(iters) == NUM_TRAIN // GLOBAL_BATCH


def read_scalars_of_first_run(two_nodes):
    files = sorted(glob.glob(osp.join(two_nodes['work_dir'], '*', 'vis_data',
                                      'scalars.json')))
    with open(files[0]) as f:
        return [json.loads(line) for line in f if 'loss' in line]


def test_sampler_shards_do_not_overlap(two_nodes):
    shards = []
    for rank in range(2):
        with open(osp.join(two_nodes['work_dir'],
                           f'sampler_epoch0_rank{rank}.json')) as f:
            shards.append(json.load(f))
    assert [len(s) for s in shards] == [NUM_TRAIN // 2] * 2
    assert sorted(shards[0] + shards[1]) == list(range(NUM_TRAIN))


def test_environment_log_is_truthful_without_cuda(two_nodes):
    log = two_nodes['first']
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert "'backend': 'nccl'" not in log
    assert 'GPU number' not in log
    assert 'Process number (no CUDA): 2' in log
    assert 'Distributed training: True' in log


def test_two_nodes_checkpoint_once_and_resume(two_nodes):
    work_dir = two_nodes['work_dir']
    # Each epoch's checkpoint written once (by rank 0), nothing else
    # (student_*_rank*.pth are the test hook's per-rank dumps).
    assert sorted(
        osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))
        if not osp.basename(p).startswith('student_')) == [
            'epoch_1.pth', 'epoch_2.pth']
    assert 'resumed epoch: 1, iter: 2' in two_nodes['resumed']
    assert 'global batch: 8\n' in two_nodes['resumed']
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_2.pth'))
    # Epoch 2 went on at the recipe's global batch: 2 more iterations.
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (2, 4)
    # Epoch 2's shards cover the data once as well.
    shards = []
    for rank in range(2):
        with open(osp.join(work_dir, f'sampler_epoch1_rank{rank}.json')) as f:
            shards.append(json.load(f))
    assert sorted(shards[0] + shards[1]) == list(range(NUM_TRAIN))


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
