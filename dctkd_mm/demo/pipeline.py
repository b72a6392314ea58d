"""``python tools/run_demo.py``: synthetic scenes -> teacher -> every arm at
several paired seeds -> table with 95% intervals, chart, attention maps.

Steps, all under ``--work-dir`` (default ``work_dirs/demo``):

1. Write the synthetic scene dataset to ``data/pool/`` (the teacher's
   training pool and the validation set) and the students' subset of it
   to ``data/students/`` (see :mod:`dctkd_mm.demo.data`; kept while the
   data settings are unchanged).
2. Train the ResNet-50 teacher, or reuse the cached one trained with the
   same config and data (``teacher/<hash>/``).
3. Per seed, save one initial ResNet-18 student; every arm's student of
   that seed starts from it. Train every (arm, seed) run, ``--workers``
   at a time (the baseline runs start while the teacher trains), with a
   progress line as each starts.
4. Write ``results.md``, ``results.json`` (``runs``: one entry per
   trained model, with its validation curve; ``comparisons`` with
   ``mean_diff`` and ``ci95``; ``checks``), ``top1_by_method.png``,
   ``learning_curves.png`` and ``attention/*.png``.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional

from . import training
from .chart import top1_chart
from .curves import learning_curves
from .data import pool_size, prepare_data
from .loss_calibration import LossCalibration
from .methods import BASELINE, DEMO_METHODS, TEACHER_CONFIG
from .methods import CONFIG_DIR, get_methods
from .report import build_report, factors_text, write_results
from .scheduling import (Progress, job_cost, run_jobs, torch_threads,
                         validations)
from .settings import parse_args, run_settings

MODELS = ('MMPretrain ResNet-50 teacher and ResNet-18 students '
          '(base_channels {width}), trained from scratch')


def teacher_job(settings: dict, teacher_root: str, work_dir: str):
    """The teacher's job and its cache directory, named by a hash of its
    merged config and the data settings of its pool."""
    config = osp.join(CONFIG_DIR, TEACHER_CONFIG)
    options = training.teacher_options(settings, teacher_root)
    cfg, _ = training.load_run_config(config, options)
    # The pool's location is left out: a moved or copied work dir keeps
    # its teacher (the pool's content is fixed by the settings hashed).
    text = json.dumps(
        [cfg.to_dict(), pool_size(settings), settings['val_per_class']],
        sort_keys=True, default=str).replace(teacher_root, '<pool>')
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    cache = osp.join(work_dir, 'teacher', key)
    job = dict(method='teacher', seed=0, config=config, options=options,
               work_dir=osp.join(cache, 'run'),
               verbose=settings['verbose'],
               cost=job_cost('teacher', settings['num_classes'] *
                             pool_size(settings), settings['teacher_epochs'],
                             settings['num_classes'] *
                             settings['val_per_class'], 1))
    return job, cache


def _student_cost(settings: dict, distills: bool) -> float:
    return job_cost('distill' if distills else 'student',
                    settings['num_classes'] * settings['train_per_class'],
                    settings['epochs'],
                    settings['num_classes'] * settings['val_per_class'],
                    validations(settings['epochs'], settings['val_every']))


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the demo; return the report (``rows``, ``comparisons``,
    ``checks``, ``text``) with ``runs``, ``settings``, ``curves`` (what
    the learning-curve figure drew) and ``files`` (every file written)
    added."""
    args = parse_args(argv)
    start = time.time()
    import torch
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device here; '
                         'run without --device (CPU, quarter width)')
    settings = run_settings(args)
    methods = get_methods(args.methods)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root, teacher_root, data = prepare_data(
        settings, osp.join(work_dir, 'data'))

    base_config = DEMO_METHODS[BASELINE].config_path
    sizes = training.stage_map_sizes(settings, base_config)
    print(f'[scaling] student maps {sizes} px vs the authors\' '
          '(56, 28, 14, 7): each map loss\'s weight is scaled by a '
          'measured factor once the teacher is ready', flush=True)

    job, cache = teacher_job(settings, teacher_root, work_dir)
    teacher_ckpt = osp.join(cache, 'teacher.pth')
    teacher_metrics = osp.join(cache, 'metrics.json')
    runs: List[dict] = []
    if osp.isfile(teacher_ckpt) and osp.isfile(teacher_metrics):
        print(f'[teacher] skipped: cached {teacher_ckpt} has the same config'
              ' and data (delete it to retrain)', flush=True)
        with open(teacher_metrics) as f:
            runs.append(dict(json.load(f), cached=True))
        job = None
    else:
        print(f'[teacher] training ResNet-50 into {cache}', flush=True)

    free, gated, inits = [], [], []
    for seed in range(args.seeds):
        inits.append(osp.join(work_dir, f'student_init_seed{seed}.pth'))
        training.save_student_init(settings, base_config, seed, inits[-1])
        for method in methods.values():
            student = training.student_job(method, settings, data_root, seed,
                                           inits[-1], teacher_ckpt, work_dir)
            student['cost'] = _student_cost(settings, method.distills)
            (gated if method.distills else free).append(student)
    calibration = LossCalibration(
        settings, osp.join(CONFIG_DIR, TEACHER_CONFIG), base_config,
        teacher_ckpt, inits)
    factors: Dict[str, Dict[str, dict]] = {}

    def calibrate() -> None:
        """Every arm's loss factors, into its jobs (before they start)."""
        factors.update(calibrated_factors(calibration, methods, settings))
        for student in gated:
            student['loss_factors'] = {
                name: entry['factor']
                for name, entry in factors[student['method']].items()}

    if job is None:
        calibrate()
    print(f'[students] {len(methods) * args.seeds} runs '
          f'({len(methods)} arms x {args.seeds} seeds), {args.workers} '
          'worker(s)', flush=True)

    results: Dict[tuple, dict] = {}

    def on_done(done_job: dict, result: dict) -> None:
        if done_job['method'] == 'teacher':
            shutil.copyfile(training.last_checkpoint(done_job['work_dir']),
                            teacher_ckpt)
            with open(teacher_metrics, 'w') as f:
                json.dump(result, f)
            runs.append(result)
            calibrate()
        else:
            results[done_job['method'], done_job['seed']] = result
        print(f'  {result["method"]:<9} seed {result["seed"]}: top-1 '
              f'{result["top1"]:.1f}  ({result["seconds"]:.0f} s wall, '
              f'{result["cpu_seconds"]:.0f} s CPU)',
              flush=True)

    # Without workers the runs train in this process, on --threads.
    with (torch_threads(args.threads) if args.workers == 0 else
          contextlib.nullcontext()):
        progress = Progress(([job] if job else []) + free + gated,
                            args.workers)
        run_jobs(job, free, gated, on_done, args.workers, args.threads,
                 args.device, progress)
    # Registry order, then seed: the same list however the jobs finished.
    runs += [results[m, s] for m in methods for s in range(args.seeds)]
    return _finish(args, settings, data, factors, methods, runs, work_dir,
                   data_root, start)


def calibrated_factors(calibration: LossCalibration, methods: dict,
                       settings: dict) -> Dict[str, Dict[str, dict]]:
    """``{arm: {loss name: {factor, how}}}`` for the distilling arms."""
    factors = {}
    for name, method in methods.items():
        if not method.distills:
            continue
        cfg, _ = training.load_run_config(
            method.config_path,
            training.run_options(settings, '', 0, 1, True))
        factors[name] = calibration.arm_factors(cfg)
    print(f'[scaling] {factors_text(factors)}', flush=True)
    return factors


def _finish(args, settings, data, factors, methods, runs, work_dir,
            data_root, start) -> dict:
    from .attention_figure import write_attention_figures
    weights = {}
    for run in runs:
        for name, value in run.get('loss_weights', {}).items():
            weights.setdefault(run['method'], {})[name] = round(value, 4)
    summary = dict(data, models=MODELS.format(width=args.width),
                   teacher_epochs=args.teacher_epochs, epochs=args.epochs,
                   warmup_epochs=args.warmup_epochs,
                   batch_size=args.batch_size,
                   lr=args.lr * args.batch_size / 32,
                   val_every=args.val_every, methods=list(methods),
                   seeds=args.seeds, width=args.width, device=args.device,
                   loss_factors=factors, loss_weights=weights,
                   loss_weights_text='; '.join(
                       f'{m}: ' + ', '.join(f'{k} {v:g}'
                                            for k, v in w.items())
                       for m, w in weights.items()),
                   quick=args.quick)
    labels = {name: m.label for name, m in methods.items()}
    labels['teacher'] = 'Teacher: ResNet-50'
    report = build_report(runs, summary, labels, args.references)
    if args.quick:
        report['text'] = ('**--quick smoke run: the numbers mean '
                          'nothing.**\n\n' + report['text'])
    summary['total_seconds'] = time.time() - start
    write_results(work_dir, report, runs, summary)
    written = [osp.join(work_dir, n)
               for n in ('results.md', 'results.json')]
    written.append(top1_chart(
        osp.join(work_dir, 'top1_by_method.png'), runs, report['rows'],
        labels, title=f'{data["num_val"]} val images, {args.seeds} seeds '
        'per arm'))
    curves = learning_curves(
        osp.join(work_dir, 'learning_curves.png'), runs, labels,
        title=f'Validation top-1 ({data["num_val"]} images): mean over '
        f'{args.seeds} seeds, band = lowest to highest seed')
    written.append(curves['path'])
    figure_arm = next((m for m in ('dct', 'dct+kd', 'dct-ii')
                       if m in methods), None)
    if figure_arm is not None:
        run_dir = osp.join(work_dir, f'{figure_arm}_seed0')
        written += write_attention_figures(
            osp.join(work_dir, 'attention'), data_root,
            training.student_job(methods[figure_arm], settings, data_root,
                                 0, '', '', work_dir,
                                 {n: e['factor'] for n, e in
                                  factors[figure_arm].items()}),
            training.last_checkpoint(run_dir))
    print(report['text'])
    names = ', '.join(osp.relpath(p, work_dir) for p in written)
    print(f'Wrote {len(written)} files to {work_dir} '
          f'({time.time() - start:.0f} s in all): {names}', flush=True)
    return dict(report, runs=runs, settings=summary, curves=curves,
                files=written)
