"""The regime sweep (``python -m dctkd_mm.demo.sweep``): its table row,
the last interval's gain, and a tiny sweep end to end."""
import json

import numpy as np
import pytest

from dctkd_mm.demo import sweep


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
