"""The tables of tools/run_demo.py: per-method mean and spread over seeds,
written as Markdown and JSON. Pure Python, so it is quick to test."""
import json
import math
import os.path as osp
from typing import Dict, List, Sequence

METRICS = (('top1', 'Top-1'), ('top5', 'Top-5'),
           ('mean_class', 'Mean class acc.'))
LABELS = {
    'teacher': 'Teacher: ResNet-50',
    'baseline': 'ResNet-18 alone (baseline)',
    'dct_kd': 'ResNet-18 + DCT-KD',
    'at': 'ResNet-18 + AT',
    'kd': 'ResNet-18 + KD',
}


def mean_std(values: Sequence[float]):
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.
    return mean, math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))


def summarise(runs: List[dict]) -> List[dict]:
    """One row per method, in the order methods first appear in ``runs``:
    ``method``, ``seeds``, ``<metric>_mean``/``_std`` and, for students,
    ``top1_delta``: mean top-1 minus the baseline's (None without one)."""
    methods = list(dict.fromkeys(run['method'] for run in runs))
    rows = []
    for method in methods:
        mine = [run for run in runs if run['method'] == method]
        row = dict(method=method, seeds=[run['seed'] for run in mine])
        for key, _ in METRICS:
            values = [run[key] for run in mine if key in run]
            if values:
                row[f'{key}_mean'], row[f'{key}_std'] = mean_std(values)
        rows.append(row)
    base = next((r for r in rows if r['method'] == 'baseline'), None)
    for row in rows:
        row['top1_delta'] = (
            row['top1_mean'] - base['top1_mean']
            if base is not None and row['method'] != 'teacher' else None)
    return rows


def _cell(row: dict, key: str) -> str:
    if f'{key}_mean' not in row:
        return 'n/a'
    if len(row['seeds']) < 2:
        return f'{row[key + "_mean"]:.1f}'
    return f'{row[key + "_mean"]:.1f} ± {row[key + "_std"]:.1f}'


def markdown_table(rows: List[dict]) -> str:
    """The summary as a Markdown table (mean ± sample std over seeds)."""
    head = (['Method', 'Seeds'] + [title for _, title in METRICS] +
            ['Δ top-1 vs baseline'])
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join(['---'] * len(head)) + '|']
    for row in rows:
        delta = ('' if row['top1_delta'] is None else
                 f'{row["top1_delta"]:+.1f}')
        if row['method'] == 'baseline':
            delta = '0.0 (reference)'
        cells = [LABELS.get(row['method'], row['method']),
                 ','.join(str(s) for s in row['seeds'])]
        cells += [_cell(row, key) for key, _ in METRICS] + [delta]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def verdict(rows: List[dict]) -> str:
    """One honest sentence on DCT-KD against the baseline and the other
    students."""
    by = {row['method']: row for row in rows}
    if 'dct_kd' not in by or 'baseline' not in by:
        return 'DCT-KD or the baseline was not run; no comparison.'
    dct = by['dct_kd']
    parts = [_compare(dct, by['baseline'], 'the baseline')]
    parts += [_compare(dct, by[m], LABELS[m].split(' + ')[-1])
              for m in ('at', 'kd') if m in by]
    best = max((m for m in ('baseline', 'dct_kd', 'at', 'kd') if m in by),
               key=lambda m: by[m]['top1_mean'])
    return '; '.join(parts) + f'. Best student: {LABELS[best]}.'


def _compare(dct: dict, other: dict, name: str) -> str:
    delta = dct['top1_mean'] - other['top1_mean']
    spread = max(dct['top1_std'], other['top1_std'])
    if len(dct['seeds']) < 2:
        note = 'one seed: a few points may be noise'
    elif abs(delta) <= spread:
        note = 'within the spread over seeds'
    else:
        note = 'larger than the spread over seeds'
    word = 'beats' if delta > 0 else ('ties' if delta == 0 else 'trails')
    return f'DCT-KD {word} {name} by {abs(delta):.1f} top-1 points ({note})'



def write_reports(work_dir: str, runs: List[dict],
                  settings: Dict[str, object]) -> str:
    """Write ``results.md`` and ``results.json``; return the Markdown."""
    rows = summarise(runs)
    lines = [
        '# dctkd_mm demo: synthetic scenes', '',
        f'{settings["models"]}.' if settings.get('models') else '', '',
        f'{settings.get("num_classes")} classes, '
        f'{settings.get("train_per_class")} train / '
        f'{settings.get("val_per_class")} val images per class, '
        f'{settings.get("image_size")} px; teacher '
        f'{settings.get("teacher_epochs")} epochs, students '
        f'{settings.get("epochs")} epochs; student seeds: '
        f'{", ".join(str(s) for s in _seeds(runs))}. Final-epoch '
        'validation metrics (%), mean ± sample std over seeds.',
        '', markdown_table(rows), '', verdict(rows), '',
        f'Total wall time: {settings.get("total_seconds", 0):.0f} s.', ''
    ]
    if settings.get('quick'):
        lines.insert(2, '**--quick smoke run: the numbers mean nothing.**\n')
    text = '\n'.join(lines)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(settings=settings, runs=runs, summary=rows), f,
                  indent=2)
    return text


def _seeds(runs: List[dict]) -> List[int]:
    return sorted({run['seed'] for run in runs if run['method'] != 'teacher'})
