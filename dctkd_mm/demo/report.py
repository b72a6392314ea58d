"""The demo's report: per-arm table, paired comparisons, results files.

Pure Python on the list of runs (``method``, ``seed``, metrics), so it is
tested on known numbers without training anything.
"""
import json
import os.path as osp
import statistics as pystats
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


#: What makes the demo a precise instrument (issue 21), checked on every
#: run: ``(key, description, limit, 'max' or 'min')``.
TARGETS = (
    ('baseline_std', 'baseline top-1 std over seeds', 1.5, 'max'),
    ('ci95_half_width', 'widest 95% half-width of an arm minus the '
     'baseline', 3.0, 'max'),
    ('seed_from_median', 'farthest seed from its arm\'s median top-1', 10.0,
     'max'),
    ('teacher_gap', 'teacher minus baseline mean top-1', 5.0, 'min'),
)


def instrument_checks(runs: List[dict], results: List[dict]) -> List[dict]:
    """Each target of :data:`TARGETS` with this run's ``value`` and whether
    it is ``met`` (both None where the run cannot tell, e.g. one seed)."""
    students = [r for r in runs if r['method'] != 'teacher']
    base = [r['top1'] for r in students if r['method'] == 'baseline']
    teacher = [r['top1'] for r in runs if r['method'] == 'teacher']
    widths = [c['half_width'] for c in results
              if c['reference'] == 'baseline' and c['half_width'] is not None]
    arms = {r['method'] for r in students}
    far = [max(abs(v - pystats.median(vs)) for v in vs) for vs in
           ([r['top1'] for r in students if r['method'] == m] for m in arms)]
    values = dict(
        baseline_std=mean_std(base)[1] if len(base) > 1 else None,
        ci95_half_width=max(widths) if widths else None,
        seed_from_median=max(far) if far else None,
        teacher_gap=(teacher[0] - mean_std(base)[0]
                     if teacher and base else None))
    out = []
    for key, what, limit, kind in TARGETS:
        value = values[key]
        if value is not None:
            value = float(value)  # numpy's bool is no JSON
        met = None if value is None else bool(
            value <= limit if kind == 'max' else value >= limit)
        out.append(dict(key=key, what=what, limit=limit, kind=kind,
                        value=value, met=met))
    return out


def checks_text(checks: List[dict]) -> str:
    parts = []
    for c in checks:
        bound = f'{"≤" if c["kind"] == "max" else "≥"} {c["limit"]:g}'
        if c['value'] is None:
            parts.append(f'{c["what"]}: n/a ({bound})')
        else:
            parts.append(f'{c["what"]}: {c["value"]:.1f} ({bound}, '
                         f'{"met" if c["met"] else "**not met**"})')
    return 'Instrument checks: ' + '; '.join(parts) + '.'


def losses_table(runs: List[dict], labels: Dict[str, str]) -> str:
    """Each logged loss term (weighted, as the optimiser saw it), averaged
    over the last epoch and then over seeds; '' if no run logged any."""
    arms = [m for m in dict.fromkeys(r['method'] for r in runs)
            if m != 'teacher' and any(r['method'] == m and r.get('losses')
                                      for r in runs)]
    keys = sorted({k for r in runs if r['method'] in arms
                   for k in r.get('losses', {})},
                  key=lambda k: (k != 'loss', k))
    if not arms:
        return ''
    lines = ['| Method | ' + ' | '.join(f'`{k}`' for k in keys) + ' |',
             '|' + '---|' * (len(keys) + 1)]
    for arm in arms:
        cells = []
        for key in keys:
            values = [r['losses'][key] for r in runs
                      if r['method'] == arm and key in r.get('losses', {})]
            cells.append(f'{sum(values) / len(values):.3g}' if values
                         else '')
        lines.append(f'| {labels.get(arm, arm)} | ' + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def _step_text(settings: Dict[str, object]) -> str:
    """`` of batch 32 at lr 0.025`` where the settings say so (``lr``:
    the learning rate of that batch)."""
    batch, lr = settings.get('batch_size'), settings.get('lr')
    if batch is None or lr is None:
        return ''
    return f' of batch {batch} at lr {lr:g}'


def build_report(runs: List[dict], settings: Dict[str, object],
                 labels: Dict[str, str], references: Sequence[str]) -> dict:
    """Everything the report says: ``rows``, ``comparisons``, ``checks``
    (:func:`instrument_checks`), ``text``."""
    students = [r for r in runs if r['method'] != 'teacher']
    rows = summarise(runs, ['teacher'] + list(labels))
    arms = [row['method'] for row in rows if row['method'] != 'teacher']
    results = comparisons(students, arms, references)
    checks = instrument_checks(runs, results)
    num_val = settings.get('num_val') or 0
    pool = settings.get('num_teacher_train')
    pool = (f' (the teacher on {pool}: the students\' images and more of '
            'the same generator)' if pool and pool != settings.get(
                'num_train') else '')
    se = (f'one top-1 near 50% on {num_val} validation images has a '
          f'standard error of {binomial_se(50., num_val):.1f} points. '
          if num_val else '')
    lines = [
        '# dctkd_mm demo: synthetic scenes', '',
        f'{settings.get("models", "")}', '',
        f'{settings.get("num_classes")} classes, '
        f'{settings.get("num_train")} train{pool} / {num_val} val images, '
        f'{settings.get("image_size")} px; teacher '
        f'{settings.get("teacher_epochs")} epochs, students '
        f'{settings.get("epochs")} epochs{_step_text(settings)}; student '
        'seeds '
        f'{", ".join(str(s) for s in sorted({r["seed"] for r in students}))}'
        ' (each seed: same initial weights and data order for every arm). '
        'Final-epoch validation metrics (%), mean ± sample std over seeds.',
        '', arms_table(rows, labels), '',
        'Paired differences (arm minus reference, same seed), 95% t '
        f'interval over seeds; {se}Verdict: **better** / **worse** when the '
        'whole interval is above / below 0, else **not distinguishable**.',
        '', comparisons_table(results), '', checks_text(checks), '',
        'Loss weights used (authors\' weight x map-size factor, the loss '
        'on the authors\' 224 px maps over the loss on the demo\'s, '
        'measured on the teacher and the initial students, see '
        'dctkd_mm/demo/loss_calibration.py): '
        f'{settings.get("loss_weights_text", "")}', '',
        factors_text(settings.get('loss_factors') or {}), '']
    table = losses_table(runs, labels)
    if table:
        lines += ['Loss terms in the last epoch (weighted, as the optimiser '
                  'saw them; mean over the epoch\'s logged steps, then over '
                  'seeds; `loss` is their sum):', '', table, '']
    return dict(rows=rows, comparisons=results, checks=checks,
                text='\n'.join(lines))


def factors_text(factors: Dict[str, Dict[str, dict]]) -> str:
    """One line: per arm, each map-size-dependent loss's factor, how it was
    obtained and, if measured, its range over the seeds (every other loss
    has factor 1)."""
    def entry_text(loss: str, entry: dict) -> str:
        seeds = [v for v in entry.get('per_seed') or [] if v is not None]
        spread = (f'; seeds {min(seeds):g} to {max(seeds):g}'
                  if seeds else '')
        return f'{loss} {entry["factor"]:g} ({entry["how"]}{spread})'

    arms = []
    for arm, losses in factors.items():
        shown = [entry_text(loss, entry) for loss, entry in losses.items()
                 if entry['how'] != 'size-free']
        if shown:
            arms.append(f'{arm}: ' + ', '.join(shown))
    if not arms:
        return 'Map-size factors: none (no loss depends on the map size).'
    return ('Map-size factors (every other loss: 1): ' + '; '.join(arms) +
            '.')


def write_results(work_dir: str, report: dict, runs: List[dict],
                  settings: Dict[str, object]) -> None:
    """``results.md`` (the report's text) and ``results.json`` (settings,
    every trained model in ``runs``, the summary and the comparisons)."""
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(report['text'])
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(settings=settings, runs=runs, summary=report['rows'],
                       comparisons=report['comparisons'],
                       checks=report.get('checks', [])), f, indent=2)
