"""The demo: synthetic scenes -> teacher -> four students -> a table.

    python tools/run_demo.py                 # 3.5-6 min on a 2-core CPU
    python tools/run_demo.py --seeds 3       # mean and spread over 3 seeds

Steps, all under ``--work-dir`` (default ``work_dirs/demo``):

1. Write the synthetic scene dataset (classes are object arrangements,
   see :mod:`dctkd_mm.datasets.synthetic_scenes`) to ``data/``.
2. Train the ResNet-50 teacher from scratch (configs/demo/teacher_*).
3. For each seed, train four ResNet-18 students from the same initial
   weights, data order and schedule: alone (baseline), with DCT-KD, with
   AT and with KD. Every run goes through ``tools/train.py``'s ``main``.
   The teacher is trained once (seed 0); ``--seeds`` varies the students'
   initial weights and data order.
4. Read each run's final validation metrics (top-1, top-5, mean class
   accuracy) and write ``results.md`` and ``results.json``.
"""
import argparse
import contextlib
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))
from demo_report import summarise, write_reports  # noqa: E402

CONFIGS = osp.join(ROOT, 'configs', 'demo')
TEACHER = ('teacher', 'teacher_r50_synthetic.py')
#: (method, config); the first is the baseline the others are compared to.
STUDENTS = (
    ('baseline', 'student_r18_synthetic.py'),
    ('dct_kd', 'dct_kd_r18_synthetic.py'),
    ('at', 'at_r18_synthetic.py'),
    ('kd', 'kd_r18_synthetic.py'),
)
MODELS = ('MMPretrain ResNet-50 teacher and ResNet-18 students, both at '
          'quarter width (base_channels=16), trained from scratch')
#: Settings of the default run, sized for a few minutes on 2 CPU cores.
DEFAULTS = dict(num_classes=16, train_per_class=50, val_per_class=25,
                image_size=64, teacher_epochs=20, epochs=10, threads=1)
#: ``--quick``: a smoke run of the whole pipeline in about a minute.
QUICK = dict(num_classes=8, train_per_class=4, val_per_class=2,
             image_size=32, teacher_epochs=1, epochs=1, threads=1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--seeds', type=int, default=1,
                        help='train the students with seeds 0..N-1')
    parser.add_argument('--quick', action='store_true',
                        help='tiny smoke-test settings (numbers meaningless)')
    for key in DEFAULTS:
        parser.add_argument('--' + key.replace('_', '-'), type=int,
                            help=f'default {DEFAULTS[key]} '
                            f'({QUICK[key]} with --quick)')
    parser.add_argument('--methods', default=','.join(m for m, _ in STUDENTS),
                        help='comma-separated students to train')
    parser.add_argument('--reuse-teacher', action='store_true',
                        help='keep the teacher of an earlier run in '
                        '--work-dir instead of training it again')
    parser.add_argument('--verbose', action='store_true',
                        help='show the training logs on the console')
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    known = [m for m, _ in STUDENTS]
    args.methods = [m for m in args.methods.split(',') if m]
    unknown = set(args.methods) - set(known)
    if unknown:
        parser.error(f'unknown --methods {sorted(unknown)}; choose from '
                     f'{known}')
    return args


def load_tool(name):
    """A module of tools/ by file name (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        f'_demo_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_data(args, data_root):
    """Write the dataset unless ``data_root`` already holds one made with
    the same settings (``settings.json`` records them)."""
    from dctkd_mm.datasets.synthetic_scenes import generate_synthetic_scenes
    settings = dict(num_classes=args.num_classes,
                    train_per_class=args.train_per_class,
                    val_per_class=args.val_per_class,
                    image_size=args.image_size, seed=0)
    stamp = osp.join(data_root, 'settings.json')
    if osp.isfile(stamp):
        with open(stamp) as f:
            if json.load(f) == settings:
                return settings
        shutil.rmtree(data_root)
    generate_synthetic_scenes(data_root, **settings)
    with open(stamp, 'w') as f:
        json.dump(settings, f)
    return settings


def cfg_options(args, data_root, seed, distill, epochs):
    """``--cfg-options`` shared by every run: data, classes, schedule."""
    opts = {f'{loader}.dataset.data_root': data_root
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')}
    heads = (('model.architecture.head', 'model.teacher.head')
             if distill else ('model.head', ))
    opts.update({f'{head}.num_classes': args.num_classes for head in heads})
    crop = 'train_dataloader.dataset.pipeline.1.crop_size'
    opts[crop] = args.image_size
    # Warm-up over epoch 0, cosine over the rest (over epoch 0 too, for a
    # one-epoch run).
    opts.update({'train_cfg.max_epochs': epochs,
                 'train_cfg.val_interval': epochs,
                 'param_scheduler.1.begin': min(1, epochs - 1),
                 'param_scheduler.1.end': epochs,
                 'param_scheduler.1.T_max': max(epochs - 1, 1),
                 'randomness.seed': seed})
    return opts


def train(config, work_dir, options, verbose=False):
    """Train ``config`` with tools/train.py's ``main``; return the final
    validation metrics and the wall time."""
    argv = [osp.join(CONFIGS, config), '--work-dir', work_dir]
    argv += ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    with open(osp.join(work_dir, 'console.log'), 'w') as log:
        quiet = (contextlib.nullcontext() if verbose else
                 _redirect_output(log))
        try:
            with quiet:
                load_tool('train').main(argv)
        except BaseException:
            print(f'Training {config} failed; its log is '
                  f'{osp.join(work_dir, "console.log")}', file=sys.stderr)
            raise
    return read_final_metrics(work_dir), time.time() - start


@contextlib.contextmanager
def _redirect_output(stream):
    with contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        yield


def read_final_metrics(work_dir):
    """The last validation metrics MMEngine logged under ``work_dir`` (its
    newest ``<timestamp>/vis_data/scalars.json``)."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no scalars.json under {work_dir}')
    metrics = None
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        for line in f:
            record = json.loads(line)
            if 'accuracy/top1' in record:
                metrics = record
    if metrics is None:
        raise RuntimeError(f'{work_dir}: the run logged no validation '
                           'metrics')
    return {key.split('/')[-1]: metrics[key]
            for key in ('accuracy/top1', 'accuracy/top5',
                        'accuracy/mean_class') if key in metrics}


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def save_student_init(args, seed, path):
    """Initial student weights for ``seed``, shared by every student so
    that they differ only in the distillation loss."""
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.runner import set_random_seed
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, STUDENTS[0][1]))
    cfg.model.head.num_classes = args.num_classes
    # A logger of its own takes init_weights()' per-parameter report
    # (into <path>.log), which would otherwise go to the console or into
    # the previous run's log.
    MMLogger.get_instance(f'run_demo_init_{time.time_ns()}',
                          log_file=osp.splitext(path)[0] + '.log',
                          log_level='WARNING')
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict(), 'meta': {'seed': seed}},
               path)


def write_attention_figure(work_dir, data_root, run_dir, options,
                           num_images=4):
    """Teacher vs DCT-KD student attention maps and DCT spectra for the
    first validation image of the first ``num_images`` classes, drawn by
    tools/visualize_attention.py into ``<work_dir>/attention/``.

    A failure here is reported, not raised: the table is already written.
    """
    with open(osp.join(data_root, 'places365_val.txt')) as f:
        firsts = {}
        for line in f:
            name, label = line.split()
            firsts.setdefault(int(label), name)
    images = [osp.join(data_root, 'val_256', firsts[label])
              for label in sorted(firsts)[:num_images]]
    out_dir = osp.join(work_dir, 'attention')
    argv = images + [
        '--config', osp.join(CONFIGS, dict(STUDENTS)['dct_kd']),
        '--checkpoint', last_checkpoint(run_dir), '--out-dir', out_dir,
        '--device', 'cpu', '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()]
    try:
        load_tool('visualize_attention').main(argv)
    except Exception as exc:  # noqa: BLE001  (keep the results)
        print(f'(attention figure failed: {type(exc).__name__}: {exc})')
        return None
    return out_dir


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    import torch

    import dctkd_mm  # noqa: F401  (after argparse: --help stays fast)

    # These small models give each op too little work to split: a second
    # intra-op thread mostly adds synchronisation, and when the other core
    # is busy (CI, a desktop) it makes training several times slower.
    torch.set_num_threads(args.threads)

    data_root = osp.join(work_dir, 'data')
    print(f'[data] writing synthetic scenes to {data_root}', flush=True)
    data = generate_data(args, data_root)

    runs, used = [], {}

    def record(method, seed, config, run_dir, opts):
        metrics, seconds = train(config, run_dir, opts, args.verbose)
        runs.append(dict(method=method, seed=seed, seconds=seconds,
                         **metrics))
        used[method, seed] = (run_dir, opts)
        print(f'  {method:<9} seed {seed}: top-1 {metrics["top1"]:.1f}  '
              f'({seconds:.0f} s)', flush=True)

    teacher_dir = osp.join(work_dir, 'teacher')
    teacher_ckpt = osp.join(work_dir, 'teacher_r50.pth')
    if args.reuse_teacher and osp.isfile(teacher_ckpt):
        print(f'[teacher] reusing {teacher_ckpt}', flush=True)
        runs.append(dict(method='teacher', seed=0, seconds=0.,
                         **read_final_metrics(teacher_dir)))
    else:
        print('[teacher] ResNet-50 from scratch', flush=True)
        record('teacher', 0, TEACHER[1], teacher_dir,
               cfg_options(args, data_root, 0, False, args.teacher_epochs))
        shutil.copyfile(last_checkpoint(teacher_dir), teacher_ckpt)

    configs = dict(STUDENTS)
    for seed in range(args.seeds):
        init = osp.join(work_dir, f'student_init_seed{seed}.pth')
        save_student_init(args, seed, init)
        print(f'[students] seed {seed}, ResNet-18 from {init}', flush=True)
        for method in args.methods:
            distill = method != 'baseline'
            opts = cfg_options(args, data_root, seed, distill, args.epochs)
            prefix = 'model.architecture' if distill else 'model'
            opts[f'{prefix}.init_cfg.type'] = 'Pretrained'
            opts[f'{prefix}.init_cfg.checkpoint'] = init
            if distill:
                opts['model.teacher_ckpt'] = teacher_ckpt
            record(method, seed, configs[method], osp.join(
                work_dir, f'{method}_seed{seed}'), opts)

    settings = dict(data, models=MODELS, teacher_epochs=args.teacher_epochs,
                    epochs=args.epochs, seeds=args.seeds,
                    threads=args.threads,
                    quick=args.quick, total_seconds=time.time() - start)
    table = write_reports(work_dir, runs, settings)
    if ('dct_kd', 0) in used:
        print('[figure] attention maps, teacher vs DCT-KD student',
              flush=True)
        write_attention_figure(work_dir, data_root, *used['dct_kd', 0])
    print(table)
    print(f'Wrote {osp.join(work_dir, "results.md")} and results.json '
          f'({settings["total_seconds"]:.0f} s in all).')
    return summarise(runs)


if __name__ == '__main__':
    main()
