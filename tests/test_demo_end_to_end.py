"""The demo end to end (tools/run_demo.py): a tiny run done twice, in
worker processes and in this process, gives the same table, statistics,
curves, progress lines and files."""
import json
import math
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from dctkd_mm.demo import pipeline

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
    # The DCT weight is the authors' 1 times its measured map-size factor,
    # the one the report lists.
    factor = data['settings']['loss_factors']['dct']['loss_dct']
    assert factor['how'] == 'measured' and factor['factor'] > 1
    assert len(factor['per_seed']) == 2  # each seed's own ratio
    assert data['settings']['loss_weights']['dct'] == {
        'loss_dct': pytest.approx(factor['factor'], abs=1e-4)}
    assert f'loss_dct {factor["factor"]:g} (measured' in first['text']
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
