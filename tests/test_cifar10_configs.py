"""The CIFAR-10 configs (configs/cifar10/) on a CIFAR-10 tree written in
the official ``cifar-10-batches-py`` layout, with a teacher checkpoint in
MMClassification 0.x's published format. Every config is used as it is;
the command-line overrides (``--cfg-options``) change only the data root,
batch sizes, worker count, epochs and the teacher checkpoint path (and, in
the resume tests, accumulation, checkpoint interval and seed)."""
import copy
import glob
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from mmpretrain.datasets import CIFAR10
from utils import (CIFAR10_MD5_OFF, REPO_ROOT, Killed, build_model,
                   runner_state_restored, save_mmcls_checkpoint,
                   train_in_process, write_cifar10_tree)

from dctkd_mm.apis import export_cli
from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.engine.runner import ResumeMismatchError
from dctkd_mm.models.algorithms.frozen_teacher_distill import \
    load_teacher_checkpoint

CIFAR_DIR = osp.join(REPO_ROOT, 'configs', 'cifar10')
STUDENT = 'resnet18_8xb16_cifar10.py'
DISTILL = ('hint_resnet50_resnet18_8xb16_cifar10.py',
           'hint-adaptive_resnet50_resnet18_8xb16_cifar10.py',
           'dct_resnet50_resnet18_8xb16_cifar10.py',
           'dct-adaptive_resnet50_resnet18_8xb16_cifar10.py')
PUBLISHED_TEACHER = ('https://download.openmmlab.com/mmclassification/v0/'
                     'resnet/resnet50_b16x8_cifar10_20210528-f54bfad9.pth')


@pytest.fixture
def md5_off(monkeypatch):
    """MMPretrain's CIFAR10 checks the official files' md5; a written tree
    cannot pass that, so the checks are set to None (MMPretrain's own "no
    check" value) for this test only."""
    for name, value in CIFAR10_MD5_OFF.items():
        monkeypatch.setattr(CIFAR10, name, value)


@pytest.fixture(scope='module')
def cifar_root(tmp_path_factory):
    return write_cifar10_tree(str(tmp_path_factory.mktemp('cifar10')))


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A ResNet-50 CIFAR teacher (random weights, non-trivial BN
    statistics) saved as MMClassification 0.x published its checkpoints."""
    cfg = Config.fromfile(osp.join(CIFAR_DIR, DISTILL[0]))
    cfg.model.teacher_ckpt = None
    teacher = build_model(cfg).teacher
    path = str(tmp_path_factory.mktemp('ckpt') / 'resnet50_cifar10.pth')
    return save_mmcls_checkpoint(teacher, path, CIFAR10.METAINFO['classes'])


def test_configs_use_mmpretrain_cifar_setting():
    for name in (STUDENT, ) + DISTILL:
        cfg = Config.fromfile(osp.join(CIFAR_DIR, name))
        assert cfg.train_dataloader.dataset.type == 'SafeCIFAR10'
        assert cfg.train_cfg.max_epochs == 200
        assert cfg.param_scheduler.milestones == [100, 150]
        assert cfg.auto_scale_lr.base_batch_size == 128
        student = cfg.model if name == STUDENT else cfg.model.architecture
        assert student.backbone.type == 'ResNet_CIFAR'
        assert student.backbone.depth == 18
        if name != STUDENT:
            assert cfg.model.teacher.backbone.type == 'ResNet_CIFAR'
            assert cfg.model.teacher.backbone.depth == 50
            assert cfg.model.teacher_ckpt == PUBLISHED_TEACHER
        adaptive = 'adaptive' in name
        assert (cfg.model.get('type') == 'AdaptiveTeacherDistill') == adaptive
        if adaptive:
            assert cfg.model.adaptive_module.blocks == ['backbone.layer3.5']


@pytest.fixture(scope='module')
def mmcls_teachers():
    """Two teachers of the CIFAR configs (seeds 1 and 2), built once for
    both formats (ResNet-50's weight init is most of the test's time);
    each test loads into its own copy of the second."""
    cfg = Config.fromfile(osp.join(CIFAR_DIR, DISTILL[0]))
    cfg.model.teacher_ckpt = None
    return build_model(cfg, seed=1).teacher, build_model(cfg, seed=2).teacher


@pytest.mark.parametrize('legacy', [True, False], ids=['legacy', 'zip'])
def test_mmcls_checkpoint_format_loads_strictly_and_safely(
        tmp_path, legacy, mmcls_teachers):
    """MMClassification 0.x checkpoint (``meta`` with CLASSES, versions,
    config text, epoch/iter, hook messages; ``state_dict`` with
    ``backbone.*``/``head.fc.*``) through the one safe reader, then
    strictly into the teacher of the CIFAR configs."""
    source, pristine_target = mmcls_teachers
    path = save_mmcls_checkpoint(source, str(tmp_path / 'r50.pth'),
                                 CIFAR10.METAINFO['classes'], legacy=legacy)
    ckpt = load_checkpoint_file(path)
    assert ckpt['meta']['CLASSES'] == list(CIFAR10.METAINFO['classes'])
    assert ckpt['meta']['epoch'] == 200
    keys = set(ckpt['state_dict'])
    assert {k.split('.')[0] for k in keys} == {'backbone', 'head'}
    assert 'head.fc.weight' in keys

    target = copy.deepcopy(pristine_target)
    load_teacher_checkpoint(target, path)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value,
                                   rtol=0, atol=0, msg=key)


def _overrides(data_root: str, work_dir: str, teacher_ckpt=None):
    options = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=5', 'val_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0', 'train_cfg.max_epochs=1',
    ]
    if teacher_ckpt:
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return ['--work-dir', work_dir, '--cfg-options'] + options


ADAPTIVE_RESUMED = 'hint-adaptive_resnet50_resnet18_8xb16_cifar10.py'


def _train_one_epoch(name, cifar_root, teacher_ckpt, work_dir):
    config = osp.join(CIFAR_DIR, name)
    args = [config] + _overrides(
        cifar_root, work_dir, None if name == STUDENT else teacher_ckpt)
    train_in_process(args)
    return args


@pytest.fixture(scope='module')
def adaptive_run(cifar_root, teacher_ckpt, tmp_path_factory):
    """The one-epoch run of ADAPTIVE_RESUMED, shared by its
    ``test_config_trains_a_step`` case and the resume test (which resumes
    in a copy of the work dir); md5 checks off, as the function-scoped
    fixtures do (the config text's yapf formatting is skipped for the
    whole session, see tests/utils/config_costs.py)."""
    work_dir = str(tmp_path_factory.mktemp('adaptive') / 'work')
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CIFAR10_MD5_OFF.items():
            patch.setattr(CIFAR10, name, value)
        args = _train_one_epoch(ADAPTIVE_RESUMED, cifar_root, teacher_ckpt,
                                work_dir)
    return dict(work_dir=work_dir, args=args)


@pytest.fixture(scope='module')
def published_teacher_state(teacher_ckpt):
    """``teacher_ckpt``'s state dict through the safe reader, read once
    (the tests only compare against it)."""
    return load_checkpoint_file(teacher_ckpt)['state_dict']


@pytest.mark.slow
@pytest.mark.parametrize('name', (STUDENT, ) + DISTILL)
def test_config_trains_a_step(name, cifar_root, teacher_ckpt, tmp_path,
                              md5_off, request):
    if name == ADAPTIVE_RESUMED:
        work_dir = request.getfixturevalue('adaptive_run')['work_dir']
    else:
        work_dir = str(tmp_path / 'work')
        _train_one_epoch(name, cifar_root, teacher_ckpt, work_dir)
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'))
    assert ckpt['meta']['epoch'] == 1
    state = ckpt['state_dict']
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert scalars, 'no training log'
    if name == STUDENT:
        assert 'backbone.conv1.weight' in state
        return
    # Loaded from the MMClassification checkpoint; the frozen teacher did
    # not move, the adaptive module (if any) did.
    published = request.getfixturevalue('published_teacher_state')
    moved = [k for k, v in published.items()
             if not torch.equal(state[f'teacher.{k}'], v)]
    if 'adaptive' in name:
        assert moved and all(
            k.startswith('backbone.layer3.5.') for k in moved), moved
        assert any(k.endswith('.weight') for k in moved)
    else:
        assert moved == []


@pytest.mark.slow
def test_adaptive_module_checkpoint_resume_and_export(adaptive_run,
                                                      tmp_path, md5_off):
    """The module is in the optimizer (its momentum is saved), survives a
    resume, and is not in the exported student."""
    # The first epoch is the shared run's; the resume writes into a copy
    # of its work dir (``last_checkpoint`` pointed at the copy's epoch_1,
    # so ``--resume`` (auto) starts from the copy as it did in place).
    work_dir = str(tmp_path / 'work')
    shutil.copytree(adaptive_run['work_dir'], work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_1.pth'))
    args = list(adaptive_run['args'])
    args[args.index('--work-dir') + 1] = work_dir
    first = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'))
    dumped = glob.glob(osp.join(work_dir, '*.py'))[0]
    cfg = Config.fromfile(dumped)
    with runner_state_restored():
        model = build_model(cfg)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    module = [n for n in trainable if n.startswith('teacher.')]
    assert module and all(
        n.startswith('teacher.backbone.layer3.5.') for n in module)
    # SGD keeps a momentum buffer for every parameter it updated.
    assert len(first['optimizer']['state']) == len(trainable)

    # Resume for a second epoch: the module continues from epoch 1.
    train_in_process(args + ['train_cfg.max_epochs=2', '--resume'])
    second = load_checkpoint_file(osp.join(work_dir, 'epoch_2.pth'))
    assert second['meta']['epoch'] == 2
    key = 'teacher.backbone.layer3.5.conv2.weight'
    assert not torch.equal(second['state_dict'][key],
                           first['state_dict'][key])

    # tools/model_converters/export_student.py
    out = export_cli.main([dumped, osp.join(work_dir, 'epoch_2.pth'),
                           '--out-dir', str(tmp_path / 'export')])
    exported = load_checkpoint_file(out['checkpoint'])['state_dict']
    assert set(exported) == set(model.student.state_dict())
    assert out['dropped']['teacher'] == len(
        [k for k in second['state_dict'] if k.startswith('teacher.')])


# --- exact resume of the CIFAR-10 configs (issue 17 F5/F8) -------------------


def _accumulating(cifar_root: str, work_dir: str, keep: int) -> list:
    """The student config on the tiny tree: 10 images in batches of 2
    (5 iterations), gradients accumulated over 2 of them, a checkpoint
    every 3 iterations (iter_3 falls between two optimizer steps) and at
    the end, deterministic."""
    return [osp.join(CIFAR_DIR, STUDENT)] + _overrides(
        cifar_root, work_dir) + [
        'train_dataloader.batch_size=2',
        'optim_wrapper.accumulative_counts=2',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=3',
        f'default_hooks.checkpoint.max_keep_ckpts={keep}',
        'randomness.seed=0', 'randomness.deterministic=True']


@pytest.fixture(scope='module')
def accumulation_run(cifar_root, tmp_path_factory):
    """The uninterrupted run (its md5 checks off, as ``md5_off`` does)."""
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CIFAR10_MD5_OFF.items():
            patch.setattr(CIFAR10, name, value)
        train_in_process(_accumulating(cifar_root, work_dir, keep=-1))
    return work_dir


def _assert_same_training_state(path_a: str, path_b: str) -> None:
    a, b = load_checkpoint_file(path_a), load_checkpoint_file(path_b)
    assert a['meta']['iter'] == b['meta']['iter']
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    for index, state in a['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, b['optimizer']['state'][index][name])


@pytest.mark.slow
def test_cifar10_resume_between_accumulation_steps_is_exact(
        cifar_root, accumulation_run, tmp_path, md5_off):
    """iter_3 holds one of two accumulated backward passes. With MMEngine's
    CheckpointHook (the configs' hook before) those gradients were lost and
    most weights of the resumed run differed; AtomicCheckpointHook saves
    and restores them."""
    work_dir = str(tmp_path / 'resumed')
    train_in_process(
        _accumulating(cifar_root, work_dir, keep=-1) +
        ['--resume', osp.join(accumulation_run, 'iter_3.pth')])
    _assert_same_training_state(osp.join(accumulation_run, 'iter_5.pth'),
                                osp.join(work_dir, 'iter_5.pth'))


@pytest.mark.slow
def test_cifar10_kill_during_save_with_max_keep_one_resumes_exactly(
        cifar_root, accumulation_run, tmp_path, md5_off,
        killed_on_second_save):
    """max_keep_ckpts=1, the process dies half-way through writing iter_5:
    MMEngine's hook had already deleted iter_3, leaving nothing usable.
    Here iter_3 survives, ``--resume`` (auto) continues from it, between
    two accumulation steps, and ends where the uninterrupted run ended."""
    work_dir = str(tmp_path / 'killed')
    args = _accumulating(cifar_root, work_dir, keep=1)
    with pytest.raises(Killed):
        train_in_process(args)
    assert sorted(glob.glob(osp.join(work_dir, '*.pth'))) == [
        osp.join(work_dir, 'iter_3.pth')]
    train_in_process(args + ['--resume'])
    _assert_same_training_state(osp.join(accumulation_run, 'iter_5.pth'),
                                osp.join(work_dir, 'iter_5.pth'))


@pytest.mark.slow
@pytest.mark.parametrize('change, setting', [
    (['optim_wrapper.optimizer.lr=0.05'], 'optim_wrapper.optimizer.lr '),
    (['--auto-scale-lr'], 'lr_scale '),
    (['data_preprocessor.mean=[0,0,0]'], 'preprocessor_mean '),
    (['data_preprocessor.std=[1,1,1]'], 'preprocessor_std '),
], ids=['lr', 'auto-scale-lr', 'mean', 'std'])
def test_cifar10_resume_with_other_lr_or_normalisation_is_refused(
        cifar_root, accumulation_run, tmp_path, md5_off, change, setting):
    """The saved optimizer state wins over a new lr (or an lr rescaled by
    --auto-scale-lr), and the normalisation is not saved at all: each was
    silently ignored or applied half-way; now refused by name."""
    args = _accumulating(cifar_root, str(tmp_path / 'work'), keep=-1)
    if change[0].startswith('--'):
        args = args[:1] + change + args[1:]
    else:
        args += change
    with pytest.raises(ResumeMismatchError) as info:
        train_in_process(
            args + ['--resume', osp.join(accumulation_run, 'iter_3.pth')])
    assert setting in str(info.value), str(info.value)
    assert 'load_from=CHECKPOINT' in str(info.value)
