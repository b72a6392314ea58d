"""The demo's arms (dctkd_mm.demo.methods): the registry, each arm's real
config with the authors' weights rescaled, a training step of every
registered arm, and one initial student for all arms."""
import os.path as osp

import pytest
import torch

from dctkd_mm.demo import methods as demo_methods
from dctkd_mm.demo import training
from dctkd_mm.demo.loss_scaling import (extrapolated_factors, loss_factor,
                                        rescale_distill_losses)
from dctkd_mm.demo.settings import parse_args, run_settings
from utils import add_crd_indices, untrained_arm_config

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

#: The authors' CRD and CKD (issue 20) as demo arms, alone and + KD.
OTHER_AUTHORS = {
    'crd': (1.0, {'loss_crd': ('AuthorsCRDLoss', 0.8)}),
    'crd+kd': (0.1, {'loss_crd': ('AuthorsCRDLoss', 0.8),
                     'loss_kd': ('KLDivergence', 1.)}),
    'ckd': (1.0, {'loss_ckd': ('SemCKDLoss', 400.)}),
    'ckd+kd': (0.1, {'loss_ckd': ('SemCKDLoss', 400.),
                     'loss_kd': ('KLDivergence', 1.)}),
}


def test_registry_holds_the_issue_arms_with_existing_configs():
    assert list(demo_methods.DEMO_METHODS)[:7] == list(AUTHORS)
    names = list(demo_methods.DEMO_METHODS)
    after_vid = names.index('vid+kd') + 1
    assert names[after_vid:after_vid + 4] == list(OTHER_AUTHORS)
    assert not set(OTHER_AUTHORS) & set(demo_methods.DEFAULT_METHODS)
    for arm in demo_methods.DEMO_METHODS.values():
        assert osp.isfile(arm.config_path), arm
    with pytest.raises(ValueError, match=r"unknown demo method\(s\) \['x'\]"):
        demo_methods.get_methods(['baseline', 'x'])
    with pytest.raises(FileNotFoundError, match='nope_r18.py'):
        demo_methods.register_demo_method('nope', 'nope_r18.py', 'Nope')
    with pytest.raises(ValueError, match='already registered'):
        demo_methods.register_demo_method('dct', 'dct_r18_synthetic.py', '')


@pytest.mark.parametrize('name', list(AUTHORS) + list(OTHER_AUTHORS))
def test_arm_config_has_the_authors_weights_and_transform(name):
    from mmrazor.registry import MODELS
    arm = demo_methods.DEMO_METHODS[name]
    cfg, _ = training.load_run_config(arm.config_path, {})
    applied = rescale_distill_losses(cfg, extrapolated_factors(cfg, 12.25))
    ce, losses = {**AUTHORS, **OTHER_AUTHORS}[name]
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
    cfg = untrained_arm_config(arm, settings)
    applied = rescale_distill_losses(cfg, extrapolated_factors(cfg, 12.25))
    assert bool(applied) == arm.distills
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
    # An arm that drops short batches (SemCKD: modules sized by the batch)
    # trains on full batches only.
    num = (cfg.train_dataloader.batch_size
           if cfg.train_dataloader.get('drop_last') else 4)
    images = list(torch.randint(0, 256, (num, 3, 32, 32), dtype=torch.uint8))
    samples = [DataSample().set_gt_label(i % 4) for i in range(num)]
    if cfg.train_dataloader.dataset.type == 'AuthorsCRDDataset':
        add_crd_indices(samples, cfg)
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples),
                                   True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)


@pytest.mark.parametrize('name', ['crd', 'crd+kd', 'ckd', 'ckd+kd'])
def test_crd_and_ckd_jobs_take_their_sizes_from_the_settings(name):
    """CRD's memory bank holds one row per training image and its
    training set is wrapped (the demo's data_root and crop size reach the
    wrapped dataset); SemCKD's modules take the train batch, and short
    batches are dropped; at any --width the authors' 128-d embedding."""
    arm = demo_methods.DEMO_METHODS[name]
    settings = run_settings(parse_args(
        ['--num-classes', '6', '--train-per-class', '50', '--batch-size',
         '48', '--image-size', '48', '--width', '32']))
    job = training.student_job(arm, settings, '/data', 0, 'init.pth', None,
                               '/w')
    cfg, _ = training.load_run_config(job['config'], job['options'])
    losses = cfg.model.distiller.distill_losses
    assert cfg.train_dataloader.batch_size == 48
    assert cfg.val_dataloader.dataset.data_root == '/data'
    if name.startswith('crd'):
        train = cfg.train_dataloader.dataset
        assert train.type == 'AuthorsCRDDataset'
        assert 'data_root' not in train and train.neg_num == 16384
        assert train.dataset.data_root == '/data'
        assert train.dataset.pipeline[1].crop_size == 48
        assert losses.loss_crd.sample_n == 6 * 50
        assert losses.loss_crd.dim_out == 128
        connectors = cfg.model.distiller.connectors
        assert (connectors.crd_embed_s.dim_in,
                connectors.crd_embed_t.dim_in) == (8 * 32, 32 * 32)
        assert (connectors.crd_embed_s.dim_out,
                connectors.crd_embed_t.dim_out) == (128, 128)
        assert not cfg.train_dataloader.get('drop_last', False)
    else:
        assert cfg.train_dataloader.dataset.data_root == '/data'
        assert losses.loss_ckd.batch_size == 48
        assert cfg.train_dataloader.drop_last is True
        assert losses.loss_ckd.student_channels == [64, 128, 256]
        assert losses.loss_ckd.teacher_channels == [256, 512, 1024]
    # --quick: 20 training images, batch 32: SemCKD's batch is the set.
    quick = run_settings(parse_args(['--quick']))
    job = training.student_job(arm, quick, '/data', 0, 'init.pth', None,
                               '/w')
    options = job['options']
    if name.startswith('crd'):
        assert options['model.distiller.distill_losses.loss_crd.sample_n'] \
            == 20
    else:
        assert options['train_dataloader.batch_size'] == 20
        assert options['model.distiller.distill_losses.loss_ckd.'
                       'batch_size'] == 20


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
                                   str(tmp_path))
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
