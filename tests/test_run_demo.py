"""The demo (dctkd_mm.demo, tools/run_demo.py): statistics on known
numbers, the report, the chart, the loss-rescaling rule, the arms' real
configs, the command line, and a tiny end-to-end run done twice."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from dctkd_mm.demo import methods as demo_methods
from dctkd_mm.demo import pipeline, report, statistics, sweep, training
from dctkd_mm.demo.chart import top1_chart
from dctkd_mm.demo.curves import curve_data, learning_curves
from dctkd_mm.demo.data import prepare_data
from dctkd_mm.demo.scheduling import Progress
from dctkd_mm.demo.loss_scaling import area_ratio, loss_factor
from dctkd_mm.demo.settings import parse_args, run_settings

# --- statistics -----------------------------------------------------------


def test_mean_std_and_t_interval_on_known_numbers():
    assert statistics.mean_std([1., 2., 3., 4.]) == pytest.approx(
        (2.5, math.sqrt(5 / 3)))
    assert statistics.mean_std([7.]) == (7., 0.)
    # t(0.975, 2 dof) = 4.3027 (any t table); mean 2, std 1, n 3.
    mean, low, high = statistics.t_interval([1., 2., 3.])
    half = 4.302653 / math.sqrt(3)
    assert (mean, low, high) == pytest.approx((2., 2 - half, 2 + half),
                                              abs=1e-5)
    # t(0.975, 9 dof) = 2.2622.
    _, low, high = statistics.t_interval(list(range(10)))
    assert high - 4.5 == pytest.approx(2.262157 * np.std(range(10), ddof=1)
                                       / math.sqrt(10), abs=1e-5)
    assert statistics.t_interval([5.]) == (5., None, None)
    with pytest.raises(ValueError, match='at least one value'):
        statistics.mean_std([])


def test_verdict_follows_from_the_interval():
    assert statistics.verdict(0.1, 3.) == 'better'
    assert statistics.verdict(-3., -0.1) == 'worse'
    assert statistics.verdict(-1., 2.) == 'not distinguishable'
    assert statistics.verdict(0., 0.) == 'not distinguishable'
    assert statistics.verdict(None, None) == 'not distinguishable'


def test_validation_size_gives_at_most_one_point_standard_error():
    assert statistics.binomial_se(50., 2500) == pytest.approx(1.)
    args = parse_args([])
    num_val = args.num_classes * args.val_per_class
    assert num_val >= 2500
    assert statistics.binomial_se(50., num_val) <= 1.


def _runs(arm_top1, base_top1, arm='dct'):
    return ([dict(method='baseline', seed=s, top1=v, top5=90.,
                  mean_class=v) for s, v in enumerate(base_top1)] +
            [dict(method=arm, seed=s, top1=v, top5=91., mean_class=v)
             for s, v in enumerate(arm_top1)])


def test_pairing_by_seed_separates_what_the_spread_hides():
    # Seeds differ by 20 points, but the arm is 2-4 points above the
    # baseline on every seed: paired, that is a clear gain.
    runs = _runs([42., 63., 84.], [40., 60., 80.])
    result = statistics.paired_comparison(runs, 'dct', 'baseline')
    assert result['differences'] == [2., 3., 4.]
    half = 4.302653 / math.sqrt(3)
    assert (result['mean'], result['low'], result['high']) == \
        pytest.approx((3., 3 - half, 3 + half), abs=1e-5)
    assert result['verdict'] == 'better'
    worse = statistics.paired_comparison(_runs([38., 57., 76.],
                                               [40., 60., 80.]), 'dct',
                                         'baseline')
    assert worse['verdict'] == 'worse'
    mixed = statistics.paired_comparison(_runs([45., 55., 82.],
                                               [40., 60., 80.]), 'dct',
                                         'baseline')
    assert mixed['verdict'] == 'not distinguishable'
    # Only the seeds both arms ran are paired.
    partial = statistics.paired_comparison(
        _runs([42., 63.], [40., 60., 80.]), 'dct', 'baseline')
    assert partial['seeds'] == [0, 1]
    assert statistics.paired_comparison(runs, 'dct', 'at') is None


def test_each_arm_is_compared_with_baseline_at_and_kd_once():
    runs = [dict(method=m, seed=s, top1=50. + s)
            for m in ('baseline', 'at', 'kd', 'dct') for s in range(3)]
    pairs = [(r['arm'], r['reference']) for r in statistics.comparisons(
        runs, ['baseline', 'at', 'kd', 'dct'], ('baseline', 'at', 'kd'))]
    assert pairs == [('at', 'baseline'), ('kd', 'baseline'),
                     ('dct', 'baseline'), ('kd', 'at'), ('dct', 'at'),
                     ('dct', 'kd')]


# --- report and chart -----------------------------------------------------


def _report_runs():
    runs = [dict(method='teacher', seed=0, top1=95., top5=100.,
                 mean_class=95.)]
    runs += _runs([60., 61., 62.], [50., 55., 54.])
    runs += [dict(method='at', seed=s, top1=v, top5=90., mean_class=v)
             for s, v in enumerate([51., 54., 56.])]
    return runs


def test_report_tables_and_results_json(tmp_path):
    labels = {'baseline': 'Alone', 'at': 'AT', 'dct': 'DCT'}
    settings = dict(num_classes=16, num_train=800, num_val=2512,
                    image_size=64, teacher_epochs=20, epochs=10,
                    models='Two ResNets', area_ratio=12.25,
                    loss_weights_text='dct: loss_dct 3.5')
    out = report.build_report(_report_runs(), settings, labels,
                              ('baseline', 'at', 'kd'))
    text = out['text']
    assert [r['method'] for r in out['rows']] == ['teacher', 'baseline',
                                                  'at', 'dct']
    assert '| DCT | 0,1,2 | 61.0 ± 1.0 | 91.0 ± 0.0 | 61.0 ± 1.0 |' in text
    assert '| teacher | 0 | 95.0 | 100.0 | 95.0 |' in text
    # dct - baseline = 10, 6, 8: mean 8, std 2, t interval 8 +- 4.97.
    assert ('| dct | baseline | +10.0, +6.0, +8.0 | +8.0 | [+3.0, +13.0] | '
            '**better** |') in text
    assert '| at | baseline | +1.0, -1.0, +2.0 | +0.7 |' in text
    assert '**not distinguishable** |' in text
    assert 'standard error of 1.0 points' in text
    assert 'dct: loss_dct 3.5' in text
    report.write_results(str(tmp_path), out, _report_runs(), settings)
    assert (tmp_path / 'results.md').read_text() == text
    data = json.loads((tmp_path / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in data['runs']] == [
        ('teacher', 0)] + [(m, s) for m in ('baseline', 'dct', 'at')
                           for s in range(3)]
    assert [(c['arm'], c['reference'], c['verdict'])
            for c in data['comparisons']] == [
                ('at', 'baseline', 'not distinguishable'),
                ('dct', 'baseline', 'better'),
                ('dct', 'at', 'better')]


def test_chart_is_a_png_with_one_bar_per_arm(tmp_path):
    runs = _report_runs()
    rows = report.summarise(runs)
    path = top1_chart(str(tmp_path / 'c.png'), runs, rows, {})
    with Image.open(path) as img:
        assert img.format == 'PNG' and img.width > 300
    # One more arm widens the figure (one bar per arm).
    runs2 = runs + [dict(method='kd', seed=0, top1=50.)]
    path2 = top1_chart(str(tmp_path / 'd.png'), runs2,
                       report.summarise(runs2), {})
    with Image.open(path) as a, Image.open(path2) as b:
        assert b.width > a.width
    with pytest.raises(ValueError, match='no student runs'):
        top1_chart(str(tmp_path / 'e.png'), runs[:1],
                   report.summarise(runs[:1]), {})


def test_instrument_checks_on_known_numbers():
    runs = _report_runs() + [dict(method='kd', seed=s, top1=v)
                             for s, v in enumerate([58., 47., 60.])]
    results = statistics.comparisons(
        [r for r in runs if r['method'] != 'teacher'],
        ['baseline', 'at', 'kd', 'dct'], ('baseline', ))
    checks = {c['key']: c for c in report.instrument_checks(runs, results)}
    assert checks['baseline_std']['value'] == pytest.approx(
        np.std([50., 55., 54.], ddof=1))
    assert checks['baseline_std']['met'] is False
    assert checks['ci95_half_width']['value'] == pytest.approx(max(
        c['half_width'] for c in results))
    # kd: median 58, farthest seed 47 (11 points): a diverged run.
    assert checks['seed_from_median']['value'] == pytest.approx(11.)
    assert checks['seed_from_median']['met'] is False
    assert checks['teacher_gap']['value'] == pytest.approx(95. - 53.)
    assert checks['teacher_gap']['met'] is True
    one_seed = report.instrument_checks(runs[:2], [])
    assert [c['met'] for c in one_seed] == [None, None, True, True]


def test_learning_curves_mean_and_band_over_seeds(tmp_path):
    runs = [dict(method='teacher', seed=0, top1=90.)]
    runs += [dict(method='baseline', seed=s, top1=v[-1],
                  curve=[[5, v[0]], [10, v[1]]])
             for s, v in enumerate([(40., 60.), (50., 70.), (45., 62.)])]
    runs += [dict(method='kd', seed=s, top1=v, curve=[[5, v - 9], [10, v]])
             for s, v in enumerate([61., 65., 69.])]
    data = curve_data(runs)
    assert list(data) == ['baseline', 'kd']
    assert data['baseline'] == dict(epochs=[5, 10], seeds=3,
                                    mean=[45., 64.], low=[40., 60.],
                                    high=[50., 70.])
    out = learning_curves(str(tmp_path / 'c.png'), runs, {})
    assert out['lines'] == 2 and out['arms'] == data
    with Image.open(out['path']) as img:
        assert img.format == 'PNG'
    with pytest.raises(ValueError, match='no student run has a curve'):
        learning_curves(str(tmp_path / 'd.png'), runs[:1], {})


def test_progress_counts_runs_and_estimates_time_left(capsys):
    now = [0.]
    jobs = [dict(method=m, seed=0, cost=c)
            for m, c in (('teacher', 300.), ('baseline', 100.),
                         ('kd', 200.), ('dct', 200.))]
    progress = Progress(jobs, workers=2, clock=lambda: now[0])
    assert progress.start(jobs[0]) == ('[progress] run 1/4 (teacher, seed '
                                       '0), time left estimated once a run '
                                       'has finished')
    progress.start(jobs[1])
    now[0] = 60.
    progress.finish(jobs[1], dict(seconds=60.))  # 0.6 s per cost unit
    # Left: kd and dct (400 units = 240 s) and the teacher's predicted
    # 180 s minus the 60 s it has run, over 2 workers: 180 s.
    assert progress.seconds_left() == pytest.approx(180.)
    assert progress.start(jobs[2]).endswith('run 3/4 (kd, seed 0), about '
                                            '3 min left')
    now[0] = 400.  # only dct's 120 s is left, shared by 2 workers
    assert progress.start(jobs[3]).endswith('about 1 min left')
    now[0] = 401.
    assert progress.left_text() == 'under a minute left'
    assert capsys.readouterr().out.count('[progress] run ') == 4


def test_students_train_on_the_first_images_of_the_teacher_pool(
        tmp_path, capsys):
    settings = dict(num_classes=5, train_per_class=2,
                    teacher_train_per_class=5, val_per_class=2,
                    image_size=32)
    students, teacher, counts = prepare_data(settings, str(tmp_path))
    assert (counts['num_train'], counts['num_teacher_train'],
            counts['num_val']) == (10, 25, 10)
    lines = {root: (tmp_path / root / 'places365_train_standard.txt')
             .read_text().splitlines() for root in ('students', 'pool')}
    assert lines['students'] == [
        line for line in lines['pool']
        if int(line.split('/')[-1].split('.')[0]) <= 2]
    assert ((tmp_path / 'students' / 'places365_val.txt').read_text() ==
            (tmp_path / 'pool' / 'places365_val.txt').read_text())
    from dctkd_mm.datasets import Places365
    assert len(Places365(students, split='train')) == 10
    assert len(Places365(teacher, split='train')) == 25
    # Only the students' share changes: the pool is kept.
    capsys.readouterr()
    prepare_data(dict(settings, train_per_class=3), str(tmp_path))
    assert 'reusing' in capsys.readouterr().out
    assert len((tmp_path / 'students' / 'places365_train_standard.txt')
               .read_text().splitlines()) == 15


def test_sweep_row_marks_missed_targets(tmp_path):
    result = dict(regime='--epochs 30', baseline=[80., 82.5, 81.], mean=81.2,
                  std=1.3, last_gain=4.25, teacher=84., gap=2.8,
                  teacher_cached=True, wall=61., cpu=100., load=2.0,
                  command='python tools/run_demo.py --epochs 30')
    line = sweep.row(result)
    assert line.startswith('| `--epochs 30` | 80.0, 82.5, 81.0 | 81.2 ± 1.3 '
                           '| +4.2 | 84.0 | +2.8 ✗ | 61 s (teacher cached) |')
    md = tmp_path / 'r.md'
    md.write_text('# Regimes\n')
    sweep.record(str(md), result)
    sweep.record(str(md), result)
    text = md.read_text()
    assert text.count('| Regime |') == 1 and text.count(line) == 2


def test_sweep_last_gain_is_the_mean_gain_over_the_last_interval():
    curves = [[[5, 40.], [10, 80.], [15, 90.]],
              [[5, 50.], [10, 86.], [15, 88.]]]
    assert sweep.last_gain(curves) == 6.0
    assert sweep.last_gain([[[20, 93.]]]) is None


# --- the rescaling rule ---------------------------------------------------


def test_rescaling_factors_come_from_the_map_sizes():
    assert area_ratio([16, 8, 4, 2]) == pytest.approx(12.25)
    assert area_ratio([56, 28, 14, 7]) == 1.
    assert loss_factor('ATLoss', 12.25) == pytest.approx(1 / 12.25)
    assert loss_factor('DCTAttentionLoss', 12.25) == pytest.approx(3.5)
    assert loss_factor('KLDivergence', 12.25) == 1.
    with pytest.raises(KeyError, match="'MSELoss'.*MAP_SIZE_EXPONENTS"):
        loss_factor('MSELoss', 12.25)
    with pytest.raises(ValueError, match='4 stage map sizes'):
        area_ratio([16, 8])


def test_at_loss_scales_as_the_rule_says():
    """ATLoss on maps upsampled k times (same content, k^2 the area) is
    exactly k^-2 times as large: exponent -1 in the area."""
    from mmrazor.models.losses import ATLoss
    torch.manual_seed(0)
    s, t = torch.randn(4, 8, 7, 7), torch.randn(4, 8, 7, 7)
    loss = ATLoss(loss_weight=1.0)
    up = loss(F.interpolate(s, scale_factor=4), F.interpolate(t,
                                                              scale_factor=4))
    assert (up / loss(s, t)).item() == pytest.approx(
        loss_factor('ATLoss', 16.))


def test_l2_loss_exponent_follows_its_options():
    """MMRazor's L2Loss on maps upsampled 4x: unit-normalised features
    give the same loss (exponent 0); div_element divides by 16x the
    elements (exponent -1); raw features sum 16x the squares (exponent
    1); dist takes the square root (half)."""
    from mmrazor.models.losses import L2Loss
    torch.manual_seed(0)
    s, t = torch.randn(4, 8, 7, 7), torch.randn(4, 8, 7, 7)
    for options in (dict(), dict(div_element=True), dict(normalize=False),
                    dict(normalize=False, dist=True),
                    dict(normalize=False, div_element=True)):
        loss = L2Loss(**options)
        ratio = (loss(F.interpolate(s, scale_factor=4),
                      F.interpolate(t, scale_factor=4)) / loss(s, t)).item()
        assert ratio == pytest.approx(
            loss_factor(dict(type='L2Loss', **options), 16.)), options


def test_dct_rule_is_an_upper_bound_on_smooth_maps():
    """The DCT loss's L2 norm runs over H*W coefficients, hence the rule's
    exponent 0.5; on maps upsampled 4x (smooth, so most new coefficients
    match) it grows more slowly: between 1 and the rule's 4x."""
    from dctkd_mm.models.losses import DCTAttentionLoss
    torch.manual_seed(0)
    s, t = torch.rand(8, 8, 7, 7), torch.rand(8, 8, 7, 7)
    loss = DCTAttentionLoss()  # no teacher logits: no gating
    ratio = (loss(F.interpolate(s, scale_factor=4),
                  F.interpolate(t, scale_factor=4)) / loss(s, t)).item()
    assert 1. < ratio <= loss_factor('DCTAttentionLoss', 16.)


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


# --- command line -----------------------------------------------------------


def test_defaults_run_the_paper_arms_at_four_seeds_on_two_workers():
    args = parse_args([])
    assert args.methods == ['baseline', 'at', 'kd', 'dct', 'dct+kd'] == list(
        demo_methods.DEFAULT_METHODS)
    assert parse_args(['--methods', 'all']).methods == list(
        demo_methods.DEMO_METHODS)
    assert args.seeds == 4 and args.workers == 2 and args.threads == 1
    # The teacher learns from more than the students' training set.
    assert args.teacher_train_per_class > args.train_per_class
    assert args.width == training.CPU_WIDTH and args.device == 'cpu'
    args = parse_args(['--methods', 'baseline,dct', '--seeds', '5',
                       '--val-images', '100', '--num-classes', '8'])
    assert args.methods == ['baseline', 'dct'] and args.seeds == 5
    assert args.val_per_class == 13
    assert args.references == ['baseline', 'at', 'kd']
    args = parse_args(['--methods', 'dct,dct+fast-teacher',
                       '--references', 'dct'])
    assert args.references == ['dct']


def test_learning_rate_is_per_32_images_and_reported():
    # The default is the authors' step per image: lr 0.1 for 128 images.
    assert parse_args([]).lr == training.STUDENT_LR == pytest.approx(
        0.1 * 32 / 128)
    # The default run uses the authors' batch and lr themselves.
    job = training.student_job(demo_methods.DEMO_METHODS['kd'],
                               run_settings(parse_args([])), '/d', 0,
                               'i.pth', 't.pth', 1., '/w')
    assert job['options']['train_dataloader.batch_size'] == 128
    assert job['options']['optim_wrapper.optimizer.lr'] == pytest.approx(0.1)
    settings = run_settings(parse_args(['--lr', '0.05', '--batch-size',
                                        '64']))
    job = training.student_job(demo_methods.DEMO_METHODS['kd'], settings,
                               '/d', 0, 'i.pth', 't.pth', 1., '/w')
    assert job['options']['optim_wrapper.optimizer.lr'] == 0.1
    assert job['options']['train_dataloader.batch_size'] == 64
    assert report._step_text(dict(batch_size=64, lr=0.1)) == \
        ' of batch 64 at lr 0.1'


@pytest.mark.parametrize('argv, message', [
    (['--methods', 'baseline,bogus'], "unknown ['bogus']"),
    (['--references', 'nope'], "--references: unknown ['nope']"),
    (['--seeds', '0'], '--seeds must be >= 1'),
    (['--num-classes', '4'], '--num-classes must be >= 5'),
    (['--image-size', '16'], '--image-size must be >= 32'),
    (['--val-every', '0'], '--val-every must be >= 1'),
    (['--warmup-epochs', '-1'], '--warmup-epochs must be >= 0'),
    (['--lr', '0'], '--lr must be > 0'),
])
def test_bad_options_name_the_option(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_cuda_device_means_full_width_networks():
    """--device cuda builds the paper's full-width ResNets (plumbing
    checked on CPU: the configs build and run a forward pass)."""
    from mmpretrain.structures import DataSample
    from mmrazor.registry import MODELS
    args = parse_args(['--device', 'cuda', '--quick'])
    assert args.width == training.FULL_WIDTH == 64
    assert parse_args(['--device', 'cuda', '--width', '32']).width == 32
    settings = run_settings(args)
    arm = demo_methods.DEMO_METHODS['dct+kd']
    job = training.student_job(arm, settings, '/d', 0, 'init.pth', None,
                               1., '/w')
    cfg, _ = training.load_run_config(job['config'], job['options'])
    cfg.model.teacher_ckpt = None
    cfg.model.architecture.pop('init_cfg')
    model = MODELS.build(cfg.model)
    assert model.student.backbone.layer1[0].conv1.in_channels == 64
    assert model.teacher.head.fc.in_features == 2048
    x = torch.zeros(2, 3, 32, 32)
    with torch.no_grad():
        assert model.student(x).shape == (2, settings['num_classes'])
        assert model.teacher(x).shape == (2, settings['num_classes'])
    for arm in demo_methods.DEMO_METHODS.values():  # H4's arms too
        if not arm.distills:
            continue
        job = training.student_job(arm, settings, '/d', 0, 'i.pth', None,
                                   12.25, '/w')
        cfg, _ = training.load_run_config(job['config'], job['options'],
                                          12.25)
        cfg.model.teacher_ckpt = None
        cfg.model.architecture.pop('init_cfg')
        model = MODELS.build(cfg.model)
        data = model.data_preprocessor(dict(
            inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)] * 2,
            data_samples=[DataSample().set_gt_label(i) for i in (0, 1)]),
                                       True)
        losses = model(**data, mode='loss')
        assert any(k.startswith('distill.') for k in losses), arm.name
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match='--device cuda'):
            pipeline.main(['--device', 'cuda', '--quick'])


def test_final_metrics_come_from_the_newest_run(tmp_path):
    for stamp, top1 in (('20250101_000000', 10.), ('20250102_000000', 55.)):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        lines = [dict(loss=1.0, step=1),
                 {'accuracy/top1': top1 - 5, 'step': 1},
                 {'accuracy/top1': top1, 'accuracy/top5': 90.,
                  'accuracy/mean_class': top1 - 1, 'step': 2}]
        (vis / 'scalars.json').write_text(
            '\n'.join(json.dumps(x) for x in lines))
    assert training.read_final_metrics(str(tmp_path)) == dict(
        top1=55., top5=90., mean_class=54.)
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        training.read_final_metrics(str(tmp_path / '20250101_000000'))


# --- end to end -------------------------------------------------------------


@pytest.mark.slow
def test_tiny_demo_twice_gives_identical_tables(tmp_path, capsys):
    """Two runs of one tiny setting, the first in two worker processes,
    the second in this process with the cached teacher: same table."""
    argv = ['--quick', '--methods', 'baseline,kd,dct', '--seeds', '2',
            '--work-dir', str(tmp_path)]
    first = pipeline.main(argv)
    out1 = capsys.readouterr().out
    assert '[teacher] training ResNet-50' in out1
    second = pipeline.main(argv + ['--workers', '0'])
    out2 = capsys.readouterr().out
    assert '[teacher] skipped: cached' in out2
    assert first['text'] == second['text'] and first['text'] in out2
    data = json.loads((tmp_path / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in data['runs']] == [
        ('teacher', 0), ('baseline', 0), ('baseline', 1), ('kd', 0),
        ('kd', 1), ('dct', 0), ('dct', 1)]
    for run in data['runs']:
        assert 0. <= run['top1'] <= 100.
    assert data['settings']['loss_weights']['dct'] == {
        'loss_dct': pytest.approx(loss_factor('DCTAttentionLoss',
                                              data['settings']['area_ratio']),
                                  abs=1e-4)}
    assert len(data['comparisons']) == 3  # kd-baseline, dct-baseline, dct-kd
    with Image.open(tmp_path / 'top1_by_method.png') as img:
        assert img.format == 'PNG'
    assert len(list((tmp_path / 'attention').glob('*.png'))) == 4
    _check_statistics(data)
    _check_curves(first, data, tmp_path)
    _check_progress_and_files(out1, first, tmp_path, runs=7, workers=2)
    _check_progress_and_files(out2, second, tmp_path, runs=6, workers=0)


def _check_statistics(data):
    """Every comparison's mean difference and 95% interval, recomputed
    from the runs with scipy's t quantile."""
    from scipy import stats
    top1 = {(r['method'], r['seed']): r['top1'] for r in data['runs']}
    for c in data['comparisons']:
        diffs = [top1[c['arm'], s] - top1[c['reference'], s]
                 for s in (0, 1)]
        half = stats.t.ppf(0.975, 1) * np.std(diffs, ddof=1) / math.sqrt(2)
        assert c['mean_diff'] == pytest.approx(np.mean(diffs))
        assert c['ci95'] == pytest.approx([np.mean(diffs) - half,
                                           np.mean(diffs) + half])
        assert c['half_width'] == pytest.approx(half)
    assert [c['key'] for c in data['checks']] == [
        'baseline_std', 'ci95_half_width', 'seed_from_median',
        'teacher_gap']
    base = [top1['baseline', s] for s in (0, 1)]
    assert data['checks'][0]['value'] == pytest.approx(np.std(base,
                                                              ddof=1))


def _check_curves(out, data, tmp_path):
    """One line per arm, each point the mean over seeds of the top-1
    validated after that epoch (--quick: 2 epochs, every epoch)."""
    curves = out['curves']
    assert curves['path'] == str(tmp_path / 'learning_curves.png')
    with Image.open(curves['path']) as img:
        assert img.format == 'PNG' and img.width > 300
    assert curves['lines'] == 3 and list(curves['arms']) == ['baseline',
                                                             'kd', 'dct']
    for arm, line in curves['arms'].items():
        mine = [r for r in data['runs'] if r['method'] == arm]
        assert line['epochs'] == [1, 2]
        assert line['mean'] == pytest.approx(
            [np.mean([r['curve'][i][1] for r in mine]) for i in (0, 1)])
        # The last point is the final top-1 of the table.
        assert line['mean'][-1] == pytest.approx(np.mean([r['top1']
                                                          for r in mine]))


def _check_progress_and_files(out, result, tmp_path, runs, workers):
    import re
    lines = re.findall(r'^\[progress\] run (\d+)/(\d+) \((\S+), seed '
                       r'(\d)\), (.*)$', out, re.M)
    assert [(int(n), int(t)) for n, t, *_ in lines] == [
        (n, runs) for n in range(1, runs + 1)]
    # The first runs start before any has finished (both workers at once
    # in parallel), every later one with an estimate in minutes.
    unknown = 'time left estimated once a run has finished'
    assert [left == unknown for *_, left in lines] == [
        i < max(workers, 1) for i in range(runs)]
    assert all(re.fullmatch(r'about \d+ min left|under a minute left', left)
               for *_, left in lines[max(workers, 1):])
    files = ['results.md', 'results.json', 'top1_by_method.png',
             'learning_curves.png'] + sorted(
                 f'attention/{p.name}'
                 for p in (tmp_path / 'attention').glob('*.png'))
    assert [osp.relpath(p, tmp_path) for p in result['files']] == files
    closing = out.strip().splitlines()[-1]
    assert closing.startswith(f'Wrote {len(files)} files to {tmp_path} (')
    assert closing.endswith('): ' + ', '.join(files))


@pytest.mark.slow
def test_sweep_probes_the_baseline_and_teacher_alone(tmp_path):
    """``python -m dctkd_mm.demo.sweep`` at the tiny setting: baseline and
    teacher only, one row per regime with the command that repeats it."""
    md = tmp_path / 'regimes.md'
    results = sweep.main(['--seeds', '2', '--work-dir', str(tmp_path / 'w'),
                          '--record', str(md),
                          '--regime=--quick --workers 0'])
    data = json.loads((tmp_path / 'w' / 'results.json').read_text())
    assert {r['method'] for r in data['runs']} == {'teacher', 'baseline'}
    base = [r['top1'] for r in data['runs'] if r['method'] == 'baseline']
    teacher = data['runs'][0]['top1']
    (result, ) = results
    assert result['baseline'] == base
    assert result['gap'] == pytest.approx(teacher - np.mean(base))
    assert result['wall'] > 0 and result['cpu'] > 0
    assert result['command'] == ('python tools/run_demo.py --quick '
                                 '--workers 0 --methods baseline --seeds 2')
    assert sweep.row(result) in md.read_text()
