"""``AdaptiveTeacherDistill``: the activation-map adaptive module (our
reading of Wu et al. 2020) replacing named teacher blocks, built from the
real CIFAR-10 configs (configs/cifar10/*adaptive*)."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, DefaultScope
from mmpretrain.structures import DataSample
from torch.nn.modules.batchnorm import _BatchNorm
from utils import REPO_ROOT, build_model

HINT = osp.join(REPO_ROOT, 'configs', 'cifar10',
                'hint-adaptive_resnet50_resnet18_8xb16_cifar10.py')
DCT = osp.join(REPO_ROOT, 'configs', 'cifar10',
               'dct-adaptive_resnet50_resnet18_8xb16_cifar10.py')
HINT_FIXED = osp.join(REPO_ROOT, 'configs', 'cifar10',
                      'hint_resnet50_resnet18_8xb16_cifar10.py')
BLOCK = 'backbone.layer3.5'


def config(path=HINT, teacher_ckpt=None, **adaptive):
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = teacher_ckpt
    if 'adaptive_module' in cfg.model:
        cfg.model.adaptive_module.update(adaptive)
    return cfg


def build(cfg, seed=0):
    """The algorithm as the runner builds it (no BN statistics changed, so
    loaded weights can be compared), in eval mode."""
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.eval()
    return model


def batch(n=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 32, 32, generator=gen)
    labels = torch.arange(n) % 10
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return inputs, samples


def module_params(model):
    return {n: p for n, p in model.named_parameters()
            if n.startswith(f'teacher.{BLOCK}.')}


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """The state dict of a ResNet-50 CIFAR teacher with random weights and
    non-trivial BN statistics."""
    teacher = build_model(config(HINT_FIXED), seed=3).teacher
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def test_step_zero_is_the_original_teacher(teacher_ckpt):
    original = build(config(HINT_FIXED, teacher_ckpt)).teacher
    model = build(config(HINT, teacher_ckpt, init='teacher'))
    x, _ = batch()
    with torch.no_grad():
        expected = original(x, mode='tensor')
        got = model.teacher(x, mode='tensor')
    assert torch.equal(got, expected)
    # A trainable copy in the block's place; the rest stays frozen.
    module = model.teacher.get_submodule(BLOCK)
    assert module is not original.get_submodule(BLOCK)
    trainable = [n for n, p in model.teacher.named_parameters()
                 if p.requires_grad]
    assert trainable and all(n.startswith(BLOCK + '.') for n in trainable)
    assert len(trainable) == len(list(module.parameters()))


def test_scratch_init_replaces_only_the_block(teacher_ckpt):
    model = build(config(HINT, teacher_ckpt, init='scratch'))
    loaded = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    state = model.teacher.state_dict()
    for key, value in loaded.items():
        same = torch.equal(state[key], value)
        if key.startswith(BLOCK + '.'):
            if key.endswith(('conv1.weight', 'conv2.weight')):
                assert not same, key
        else:
            assert same, key


def test_train_mode_module_bn_trains_teacher_bn_frozen():
    model = build(config())
    model.train()
    for name, m in model.teacher.named_modules():
        if isinstance(m, _BatchNorm):
            assert m.training == name.startswith(BLOCK + '.'), name


def test_one_step_trains_the_module_and_not_the_frozen_teacher():
    cfg = config()
    model = build(cfg)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    in_optimizer = {id(p) for g in optim.optimizer.param_groups
                    for p in g['params']}
    assert all(id(p) in in_optimizer for p in module_params(model).values())
    before = copy.deepcopy(model.state_dict())
    model.train()
    x, samples = batch()
    losses = model.loss(x, samples)
    assert {'teacher.loss', 'teacher.ce', 'distill.loss_hint'} <= set(losses)
    optim.update_params(model.parse_losses(losses)[0])
    after = model.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    teacher_moved = {k for k in moved if k.startswith('teacher.')}
    assert any(k.endswith('conv2.weight') for k in teacher_moved)
    assert all(k.startswith(f'teacher.{BLOCK}.') for k in teacher_moved)
    # The module's BatchNorm statistics follow the batch; no other's did.
    assert f'teacher.{BLOCK}.bn1.running_mean' in teacher_moved
    assert any(k.startswith('architecture.') for k in moved)


def _grads_after(model, losses, keys):
    model.zero_grad(set_to_none=True)
    sum(losses[k] for k in keys).backward()
    return {n: p.grad for n, p in model.named_parameters()
            if p.grad is not None and p.grad.abs().sum() > 0}


def test_teacher_loss_reaches_only_the_module():
    model = build(config())
    model.train()
    losses = model.loss(*batch())
    assert losses['teacher.loss'] > 0
    reached = _grads_after(model, losses, ['teacher.loss'])
    assert reached
    assert set(reached) == set(module_params(model))


@pytest.mark.parametrize('distill_grad', [True, False])
def test_distill_grad_switch(distill_grad):
    model = build(config(distill_grad=distill_grad))
    model.train()
    losses = model.loss(*batch())
    keys = [k for k in losses if k.startswith('distill.') and 'loss' in k]
    reached = _grads_after(model, losses, keys)
    assert any(n.startswith('architecture.') for n in reached)
    assert any(n.startswith('distiller.connectors.') for n in reached)
    to_module = set(reached) & set(module_params(model))
    if distill_grad:
        assert to_module == set(module_params(model))
    else:
        assert not to_module
    # Nothing ever reaches the frozen part of the teacher.
    assert all(n.startswith(f'teacher.{BLOCK}.') for n in reached
               if n.startswith('teacher.'))


def test_gating_logits_come_from_the_adapted_teacher(teacher_ckpt):
    cfg = config(DCT, teacher_ckpt, init='scratch')
    logits_recorder = [
        name for name, rec in cfg.model.distiller.teacher_recorders.items()
        if rec.get('source') == 'head.fc'
    ]
    assert len(logits_recorder) == 1
    model = build(cfg)
    original = build(config(HINT_FIXED, teacher_ckpt)).teacher
    x, samples = batch()
    model.loss(x, samples)  # eval mode: the module uses its statistics
    recorded = model.distiller.teacher_recorders.get_recorder(
        logits_recorder[0]).get_record_data()
    with torch.no_grad():
        adapted = model.teacher(x, mode='tensor')
        plain = original(x, mode='tensor')
    torch.testing.assert_close(recorded.detach(), adapted)
    assert not torch.allclose(recorded.detach(), plain)


def test_export_drops_the_module(tmp_path):
    from dctkd_mm.apis.student_export import student_state_dict
    model = build(config())
    student, dropped = student_state_dict(model.state_dict())
    assert set(student) == set(model.student.state_dict())
    assert dropped['teacher'] == len(model.teacher.state_dict())


@pytest.mark.parametrize('adaptive, message', [
    (dict(blocks=['backbone.layer3.9']),
     ["'backbone.layer3.9' is not a module", "Under 'backbone.layer3'"]),
    (dict(blocks=['backbone.layer3', 'backbone.layer3.5']),
     ["'backbone.layer3.5' is inside 'backbone.layer3'"]),
    (dict(blocks=[BLOCK], init='random'), ["init must be one of"]),
    (dict(blocks=[BLOCK], teacher_loss_weight=0., distill_grad=False),
     ['never train']),
    (dict(blocks=[BLOCK], lr=0.1), ["unknown option(s) ['lr']"]),
    (dict(blocks=['backbone.layer3.5.relu']), ['has no parameters']),
])
def test_bad_adaptive_module_config(adaptive, message):
    cfg = config()
    cfg.model.adaptive_module = adaptive
    with pytest.raises(ValueError) as info:
        build(cfg)
    for part in message:
        assert part in str(info.value)


def test_teacher_fast_is_refused():
    cfg = config()
    cfg.model.teacher_fast = dict(inference_mode=True)
    with pytest.raises(ValueError, match='teacher_fast'):
        build(cfg)


@pytest.mark.slow
def test_claims_measurement_on_the_demo(tmp_path):
    """``python -m dctkd_mm.apis.adaptive_module_claims --quick``: both
    arms at two paired seeds through the demo's real configs, validation
    every epoch, the threshold rule and the paired differences."""
    import json
    from dctkd_mm.apis.adaptive_module_claims import main, read_run
    from utils import runner_state_restored
    work_dir = tmp_path / 'claims'
    with runner_state_restored():
        summary = main(['--quick', '--workers', '0', '--epochs', '2',
                        '--work-dir', str(work_dir)])
    arms = summary['arms']
    assert list(arms) == ['hint', 'hint+adaptive']
    hint_top1 = arms['hint']['top1']['values']
    assert len(hint_top1) == 2
    assert summary['threshold'] == pytest.approx(0.9 * sum(hint_top1) / 2)
    paired = summary['paired']['hint+adaptive']['top1']['values']
    assert paired == pytest.approx(
        [b - a for a, b in zip(hint_top1,
                               arms['hint+adaptive']['top1']['values'])])
    run = read_run(str(work_dir / 'hint+adaptive_seed0'))
    assert len(run['top1_per_epoch']) == 2  # validated after every epoch
    # The adaptive arm really trained the adapted teacher.
    scalars = next(work_dir.glob('hint+adaptive_seed0/*/vis_data/'
                                 'scalars.json')).read_text().splitlines()
    assert any('teacher.loss' in json.loads(line) for line in scalars)
    assert (work_dir / 'adaptive_module_claims.json').is_file()
