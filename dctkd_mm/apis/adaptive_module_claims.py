"""Measure Wu et al.'s three claims for the activation-map adaptive module
on the demo's synthetic scenes: student accuracy, final training loss and
epochs to a fixed accuracy, plain hint vs hint + adaptive module.

    python -m dctkd_mm.apis.adaptive_module_claims [demo options]

It reuses the demo (``dctkd_mm.demo``: data, cached teacher, paired student
initialisations, loss rescaling, runs) with the demo's options (``--seeds``,
``--epochs``, ``--work-dir``, ``--quick``, ...; ``--methods`` defaults to
``hint,hint+adaptive``) and adds validation after every epoch, which the
demo's report does not need. Per run it reads MMEngine's
``scalars.json``: the final top-1, the student's cross-entropy averaged
over the last epoch (the teacher's loss, which only the adaptive arm has,
is left out), and the first epoch whose top-1 reaches the threshold. The
threshold is fixed by a rule chosen before any run: 90% of the first
arm's mean final top-1 (``--threshold`` sets it instead).
"""
import argparse
import json
import multiprocessing
import os
import os.path as osp
import shutil
import statistics
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional

DEFAULT_METHODS = 'hint,hint+adaptive'
THRESHOLD_FRACTION = 0.9


def read_run(work_dir: str) -> dict:
    """Per-epoch validation top-1 and last-epoch training losses of one
    run (its newest ``<timestamp>/vis_data/scalars.json``)."""
    from dctkd_mm.demo.training import newest_scalar_records
    val, train = {}, []
    for record in newest_scalar_records(work_dir):
        if 'accuracy/top1' in record:
            val[int(record['step'])] = float(record['accuracy/top1'])
        elif 'student.loss' in record:
            train.append(record)
    if not val or not train:
        raise RuntimeError(f'{work_dir}: no validation or training records')
    last = max(r['epoch'] for r in train)
    final = [r for r in train if r['epoch'] == last]
    return dict(top1_per_epoch=[val[e] for e in sorted(val)],
                final_ce=statistics.fmean(r['student.loss'] for r in final))


def epochs_to(top1_per_epoch: List[float], threshold: float) -> Optional[int]:
    """First epoch (1-based) with top-1 >= threshold, or None."""
    for epoch, top1 in enumerate(top1_per_epoch, 1):
        if top1 >= threshold:
            return epoch
    return None


def _spread(values: List[float]) -> dict:
    return dict(mean=statistics.fmean(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0,
                values=values)


def summarise(runs: Dict[str, List[dict]], threshold: Optional[float]
              ) -> dict:
    """Mean, sample std and per-seed values of each claim per arm, and the
    paired per-seed differences of each arm from the first."""
    methods = list(runs)
    if threshold is None:
        first = [r['top1_per_epoch'][-1] for r in runs[methods[0]]]
        threshold = THRESHOLD_FRACTION * statistics.fmean(first)
    out = dict(threshold=threshold, arms={}, paired={})
    for method, results in runs.items():
        reached = [epochs_to(r['top1_per_epoch'], threshold)
                   for r in results]
        out['arms'][method] = dict(
            top1=_spread([r['top1_per_epoch'][-1] for r in results]),
            final_ce=_spread([r['final_ce'] for r in results]),
            epochs_to_threshold=reached)
    base = runs[methods[0]]
    for method in methods[1:]:
        out['paired'][method] = dict(
            top1=_spread([b['top1_per_epoch'][-1] - a['top1_per_epoch'][-1]
                          for a, b in zip(base, runs[method])]),
            final_ce_change_pct=_spread([
                100 * (b['final_ce'] - a['final_ce']) / a['final_ce']
                for a, b in zip(base, runs[method])]))
    return out


def format_summary(summary: dict) -> str:
    lines = [f"threshold top-1: {summary['threshold']:.1f}%", '',
             '| arm | top-1 (%) | final student CE | epochs to threshold |',
             '| --- | --- | --- | --- |']
    for method, arm in summary['arms'].items():
        reached = ', '.join('-' if e is None else str(e)
                            for e in arm['epochs_to_threshold'])
        lines.append(f"| {method} | {arm['top1']['mean']:.1f} ± "
                     f"{arm['top1']['std']:.1f} | "
                     f"{arm['final_ce']['mean']:.3f} ± "
                     f"{arm['final_ce']['std']:.3f} | {reached} |")
    for method, diff in summary['paired'].items():
        lines.append(
            f"\npaired, {method} minus the first arm: top-1 "
            f"{diff['top1']['mean']:+.1f} ± {diff['top1']['std']:.1f} "
            f"points; final CE {diff['final_ce_change_pct']['mean']:+.1f} ± "
            f"{diff['final_ce_change_pct']['std']:.1f}% (per seed: "
            + ', '.join(f'{v:+.1f}' for v in diff['top1']['values']) +
            ' points)')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    from dctkd_mm.demo import training
    from dctkd_mm.demo.loss_calibration import LossCalibration
    from dctkd_mm.demo.methods import (BASELINE, CONFIG_DIR, DEMO_METHODS,
                                       TEACHER_CONFIG, get_methods)
    from dctkd_mm.demo.data import prepare_data
    from dctkd_mm.demo.pipeline import calibrated_factors, teacher_job
    from dctkd_mm.demo.scheduling import init_worker, torch_threads
    from dctkd_mm.demo.settings import parse_args, run_settings

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument('--threshold', type=float, default=None)
    known, rest = extra.parse_known_args(argv)
    if not any(a.startswith('--methods') for a in rest):
        rest += ['--methods', DEFAULT_METHODS]
    args = parse_args(rest)
    settings = run_settings(args)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root, teacher_root, _ = prepare_data(settings,
                                              osp.join(work_dir, 'data'))
    base_config = DEMO_METHODS[BASELINE].config_path

    job, cache = teacher_job(settings, teacher_root, work_dir)
    teacher_ckpt = osp.join(cache, 'teacher.pth')
    if not osp.isfile(teacher_ckpt):
        print(f'[teacher] training into {cache}', flush=True)
        # torch's default of one thread per core, in this process beside
        # other busy ones, made the teacher's steps 20 times slower on 2
        # shared cores; the demo's --threads (1) is what its workers use.
        with torch_threads(args.threads):
            training.run_job(job)
        shutil.copyfile(training.last_checkpoint(job['work_dir']),
                        teacher_ckpt)
    methods = get_methods(args.methods)
    inits = [osp.join(work_dir, f'student_init_seed{seed}.pth')
             for seed in range(args.seeds)]
    for seed, init in enumerate(inits):
        training.save_student_init(settings, base_config, seed, init)
    factors = calibrated_factors(
        LossCalibration(settings, osp.join(CONFIG_DIR, TEACHER_CONFIG),
                        base_config, teacher_ckpt, inits), methods, settings)
    jobs = []
    for seed, init in enumerate(inits):
        for method in methods.values():
            job = training.student_job(
                method, settings, data_root, seed, init, teacher_ckpt,
                work_dir, {name: entry['factor'] for name, entry in
                           factors.get(method.name, {}).items()})
            job['options']['train_cfg.val_interval'] = 1
            jobs.append(job)
    print(f'[claims] {len(jobs)} runs, {args.workers} worker(s)', flush=True)
    if args.workers > 0:
        with ProcessPoolExecutor(
                args.workers, mp_context=multiprocessing.get_context('spawn'),
                initializer=init_worker,
                initargs=(args.threads, )) as pool:
            list(pool.map(training.run_job, jobs))
    else:
        for job in jobs:
            training.run_job(job)
    runs = {m: [read_run(j['work_dir']) for j in jobs if j['method'] == m]
            for m in methods}
    summary = summarise(runs, known.threshold)
    summary['command'] = ('python -m dctkd_mm.apis.adaptive_module_claims '
                          + ' '.join(argv if argv is not None else []))
    with open(osp.join(work_dir, 'adaptive_module_claims.json'), 'w') as f:
        json.dump(dict(summary, runs=runs), f, indent=1)
    print(format_summary(summary), flush=True)
    return summary


if __name__ == '__main__':
    import sys
    main(sys.argv[1:])
