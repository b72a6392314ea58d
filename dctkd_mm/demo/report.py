"""The demo's report: per-arm table, paired comparisons, results files.

Pure Python on the list of runs (``method``, ``seed``, metrics), so it is
tested on known numbers without training anything.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence

from .statistics import binomial_se, comparisons, mean_std

METRICS = (('top1', 'Top-1'), ('top5', 'Top-5'),
           ('mean_class', 'Mean class acc.'))


def summarise(runs: List[dict], order: Sequence[str] = ()) -> List[dict]:
    """One row per method (``order`` first, then first appearance):
    ``method``, ``seeds``, ``<metric>_mean`` and ``<metric>_std``."""
    methods = [m for m in dict.fromkeys(order)
               if any(r['method'] == m for r in runs)]
    methods += [m for m in dict.fromkeys(r['method'] for r in runs)
                if m not in methods]
    rows = []
    for method in methods:
        mine = [run for run in runs if run['method'] == method]
        row = dict(method=method, seeds=[run['seed'] for run in mine])
        for key, _ in METRICS:
            values = [run[key] for run in mine if key in run]
            if values:
                row[f'{key}_mean'], row[f'{key}_std'] = mean_std(values)
        rows.append(row)
    return rows


def _cell(row: dict, key: str) -> str:
    if f'{key}_mean' not in row:
        return 'n/a'
    if len(row['seeds']) < 2:
        return f'{row[key + "_mean"]:.1f}'
    return f'{row[key + "_mean"]:.1f} ± {row[key + "_std"]:.1f}'


def arms_table(rows: List[dict], labels: Dict[str, str]) -> str:
    """Mean ± sample std over seeds, one row per arm."""
    head = ['Method', 'Seeds'] + [title for _, title in METRICS]
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join(['---'] * len(head)) + '|']
    for row in rows:
        cells = [labels.get(row['method'], row['method']),
                 ','.join(str(s) for s in row['seeds'])]
        cells += [_cell(row, key) for key, _ in METRICS]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _interval(result: dict) -> str:
    if result['low'] is None:
        return 'n/a (one seed)'
    return f'[{result["low"]:+.1f}, {result["high"]:+.1f}]'


def comparisons_table(results: List[dict]) -> str:
    """Paired top-1 differences with their 95% t intervals and verdicts."""
    lines = ['| Arm | vs | Δ top-1 per seed | Mean Δ | 95% interval | '
             'Verdict |', '|---|---|---|---|---|---|']
    for r in results:
        per_seed = ', '.join(f'{d:+.1f}' for d in r['differences'])
        lines.append(f'| {r["arm"]} | {r["reference"]} | {per_seed} | '
                     f'{r["mean"]:+.1f} | {_interval(r)} | '
                     f'**{r["verdict"]}** |')
    return '\n'.join(lines)


def build_report(runs: List[dict], settings: Dict[str, object],
                 labels: Dict[str, str], references: Sequence[str]) -> dict:
    """Everything the report says: ``rows``, ``comparisons``, ``text``."""
    students = [r for r in runs if r['method'] != 'teacher']
    rows = summarise(runs, ['teacher'] + list(labels))
    arms = [row['method'] for row in rows if row['method'] != 'teacher']
    results = comparisons(students, arms, references)
    num_val = settings.get('num_val') or 0
    se = (f'one top-1 near 50% on {num_val} validation images has a '
          f'standard error of {binomial_se(50., num_val):.1f} points. '
          if num_val else '')
    lines = [
        '# dctkd_mm demo: synthetic scenes', '',
        f'{settings.get("models", "")}', '',
        f'{settings.get("num_classes")} classes, '
        f'{settings.get("num_train")} train / {num_val} val images, '
        f'{settings.get("image_size")} px; teacher '
        f'{settings.get("teacher_epochs")} epochs, students '
        f'{settings.get("epochs")} epochs; student seeds '
        f'{", ".join(str(s) for s in sorted({r["seed"] for r in students}))}'
        ' (each seed: same initial weights and data order for every arm). '
        'Final-epoch validation metrics (%), mean ± sample std over seeds.',
        '', arms_table(rows, labels), '',
        'Paired differences (arm minus reference, same seed), 95% t '
        f'interval over seeds; {se}Verdict: **better** / **worse** when the '
        'whole interval is above / below 0, else **not distinguishable**.',
        '', comparisons_table(results), '',
        f'Loss weights used (authors\' x map-size factor '
        f'{settings.get("area_ratio", 0):.2f}**e, see '
        'dctkd_mm/demo/loss_scaling.py): '
        f'{settings.get("loss_weights_text", "")}', '']
    return dict(rows=rows, comparisons=results, text='\n'.join(lines))


def write_results(work_dir: str, report: dict, runs: List[dict],
                  settings: Dict[str, object]) -> None:
    """``results.md`` (the report's text) and ``results.json`` (settings,
    every trained model in ``runs``, the summary and the comparisons)."""
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(report['text'])
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(settings=settings, runs=runs, summary=report['rows'],
                       comparisons=report['comparisons']), f, indent=2)
