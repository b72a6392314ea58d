"""The demo's arms (dctkd_mm.demo.methods): the registry, each arm's real
config with the authors' weights rescaled, a training step of every
registered arm, and one initial student for all arms."""
import os.path as osp

import pytest
import torch

from dctkd_mm.demo import methods as demo_methods
from dctkd_mm.demo import training
from dctkd_mm.demo.loss_scaling import loss_factor
from dctkd_mm.demo.settings import parse_args, run_settings

# --- the arms' real configs -------------------------------------------------

#: The authors' weights (authors_recipe.md) and CE weights per arm.
AUTHORS = {
    'baseline': (1.0, {}),
    'at': (1.0, {f'loss_at_s{i}': ('ATLoss', 1000.) for i in range(1, 5)}),
    'kd': (0.1, {'loss_kd': ('KLDivergence', 0.8)}),
    'at+kd': (0.1, dict({f'loss_at_s{i}': ('ATLoss', 1000.)
                         for i in range(1, 5)},
                        loss_kd=('KLDivergence', 1.))),
    'dct': (1.0, {'loss_dct': ('DCTAttentionLoss', 1.)}),
    'dct+kd': (0.1, {'loss_dct': ('DCTAttentionLoss', 1.),
                     'loss_kd': ('KLDivergence', 1.)}),
    'dct-ii': (1.0, {'loss_dct': ('DCTAttentionLoss', 1.)}),
}


def test_registry_holds_the_issue_arms_with_existing_configs():
    assert list(demo_methods.DEMO_METHODS)[:7] == list(AUTHORS)
    for arm in demo_methods.DEMO_METHODS.values():
        assert osp.isfile(arm.config_path), arm
    with pytest.raises(ValueError, match=r"unknown demo method\(s\) \['x'\]"):
        demo_methods.get_methods(['baseline', 'x'])
    with pytest.raises(FileNotFoundError, match='nope_r18.py'):
        demo_methods.register_demo_method('nope', 'nope_r18.py', 'Nope')
    with pytest.raises(ValueError, match='already registered'):
        demo_methods.register_demo_method('dct', 'dct_r18_synthetic.py', '')


@pytest.mark.parametrize('name', list(AUTHORS))
def test_arm_config_has_the_authors_weights_and_transform(name):
    from mmrazor.registry import MODELS
    arm = demo_methods.DEMO_METHODS[name]
    cfg, applied = training.load_run_config(arm.config_path, {}, 12.25)
    ce, losses = AUTHORS[name]
    model_cfg = cfg.model.architecture if arm.distills else cfg.model
    assert model_cfg.head.loss.loss_weight == ce
    assert {k: (v['type'], v['authors_weight'])
            for k, v in applied.items()} == losses
    for key, value in applied.items():
        assert value['weight'] == pytest.approx(
            losses[key][1] * loss_factor(losses[key][0], 12.25))
    if name.startswith('dct'):
        cfg.model.teacher_ckpt = None
        model = MODELS.build(cfg.model)
        loss = model.distiller.distill_losses['loss_dct']
        assert loss.transform == ('dct' if name == 'dct-ii' else 'dft_real')
        assert loss.loss_weight == pytest.approx(3.5)


@pytest.mark.parametrize('name', list(demo_methods.DEMO_METHODS))
def test_every_registered_arm_trains_a_step_with_rescaled_losses(name):
    """Arms added by others too: the config builds at the demo's width,
    every loss has a map-size exponent, and a training step runs in the
    memory format the config's ``ChannelsLastHook`` selects (a loss that
    flattens with ``view`` fails on channels-last maps)."""
    from types import SimpleNamespace

    from mmengine.registry import HOOKS, MODELS, DefaultScope
    from mmpretrain.structures import DataSample
    arm = demo_methods.DEMO_METHODS[name]
    settings = run_settings(parse_args(['--quick']))
    job = training.student_job(arm, settings, '/d', 0, 'init.pth', None,
                               12.25, '/w')
    cfg, applied = training.load_run_config(job['config'], job['options'],
                                            12.25)
    assert bool(applied) == arm.distills
    cfg.model.pop('teacher_ckpt', None)
    cfg.model.get('architecture', cfg.model).pop('init_cfg')
    with DefaultScope.overwrite_default_scope(
            'mmrazor' if arm.distills else 'mmpretrain'):
        model = MODELS.build(cfg.model)
    HOOKS.build(cfg.default_hooks.memory_format).before_train(
        SimpleNamespace(model=model))
    student = model.student if arm.distills else model
    with torch.no_grad():
        logits = student(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, settings['num_classes'])
    torch.manual_seed(0)
    images = list(torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8))
    data = model.data_preprocessor(dict(inputs=images, data_samples=[
        DataSample().set_gt_label(i) for i in range(4)]), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)


def test_every_student_starts_from_the_same_weights(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    settings = run_settings(parse_args(['--quick']))
    base = demo_methods.DEMO_METHODS['baseline'].config_path
    init = str(tmp_path / 'init.pth')
    training.save_student_init(settings, base, 0, init)
    saved = torch.load(init, weights_only=True)['state_dict']
    for arm in demo_methods.DEMO_METHODS.values():
        job = training.student_job(arm, settings, '/unused', 0, init, None,
                                   12.25, str(tmp_path))
        cfg, _ = training.load_run_config(job['config'], job['options'])
        assert isinstance(cfg, Config)
        scope = 'mmrazor' if arm.distills else 'mmpretrain'
        with DefaultScope.overwrite_default_scope(scope):
            model = MODELS.build(cfg.model)
        torch.manual_seed(1234)  # the init must not depend on the RNG
        model.init_weights()
        student = model.student if arm.distills else model
        state = student.state_dict()
        assert set(state) == set(saved), arm.name
        for key, value in saved.items():
            assert torch.equal(state[key], value), (arm.name, key)
