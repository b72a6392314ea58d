"""The demo's outputs from known runs: the report's tables and
results.json, the top-1 chart, the instrument checks and the learning
curves (dctkd_mm.demo.report, .chart, .curves)."""
import json

import numpy as np
import pytest
from PIL import Image

from dctkd_mm.demo import report, statistics
from dctkd_mm.demo.chart import top1_chart
from dctkd_mm.demo.curves import curve_data, learning_curves
from utils import demo_runs

# --- report and chart -----------------------------------------------------


def _report_runs():
    runs = [dict(method='teacher', seed=0, top1=95., top5=100.,
                 mean_class=95.)]
    runs += demo_runs([60., 61., 62.], [50., 55., 54.])
    runs += [dict(method='at', seed=s, top1=v, top5=90., mean_class=v)
             for s, v in enumerate([51., 54., 56.])]
    return runs


def test_report_tables_and_results_json(tmp_path):
    labels = {'baseline': 'Alone', 'at': 'AT', 'dct': 'DCT'}
    settings = dict(num_classes=16, num_train=800, num_val=2512,
                    image_size=64, teacher_epochs=20, epochs=10,
                    models='Two ResNets',
                    loss_weights_text='dct: loss_dct 3.5',
                    loss_factors=dict(
                        dct=dict(loss_dct=dict(factor=3.5, how='measured',
                                               per_seed=[3.0, None, 4.0])),
                        kd=dict(loss_kd=dict(factor=1.0, how='size-free'))))
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
    # Size-free losses are not listed; a seed without a ratio is skipped.
    assert ('Map-size factors (every other loss: 1): dct: loss_dct 3.5 '
            '(measured; seeds 3 to 4).') in text
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
