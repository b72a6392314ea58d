"""``tools/test.py``: evaluate a checkpoint of a dctkd_mm / MMRazor /
MMPretrain config.

Same command line as MMPretrain's ``tools/test.py``. For a distillation
config (validated by MMRazor's ``SingleTeacherDistillValLoop``), the
``SingleTeacherDistillTestLoop`` tests the student and then the teacher
(metrics ``teacher.*``); ``--out`` dumps the student's predictions;
``--per-class-dir`` writes per-class accuracy and the confusion matrix.
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.runner import Runner

import dctkd_mm  # noqa: F401  (compat layer + registries)
from dctkd_mm.compat import setup_cpu_distributed
from dctkd_mm.evaluation import MAX_HEATMAP_CLASSES, write_per_class_report
from .cli import add_common_args, set_work_dir
from .cli import parse_args as parse_args_and_rank
from .config_text import format_text_once
from .experiment_names import distinct_experiment_name


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', help='the file to output results (.pkl).')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='To output whether metrics or predictions. '
        'Defaults to output predictions.')
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show', action='store_true', help='whether to display images')
    parser.add_argument(
        '--interval', type=int, default=1,
        help='visualize per interval samples.')
    parser.add_argument(
        '--amp', action='store_true', help='enable mixed-precision testing')
    parser.add_argument(
        '--per-class-dir',
        help='write per-class accuracy and the confusion matrix here: '
        'per_class_accuracy.csv, confusion_matrix.csv, top_confusions.csv '
        f'and (up to {MAX_HEATMAP_CLASSES} classes) confusion_matrix.png; '
        'the teacher\'s of a distillation config in teacher/')
    add_common_args(parser)
    return parse_args_and_rank(parser, argv)


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint

    # A distillation config validates student and teacher with MMRazor's
    # val loop; test both the same way (that loop itself cannot test),
    # unless the config names its own test loop.
    test_cfg = cfg.get('test_cfg') or {}
    val_loop = (cfg.get('val_cfg') or {}).get('type', '')
    if 'type' not in test_cfg and val_loop.endswith(
            'SingleTeacherDistillValLoop'):
        cfg.test_cfg = dict(
            test_cfg, type='mmrazor.SingleTeacherDistillTestLoop')
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)

    if args.show or args.show_dir:
        vis = cfg.default_hooks.visualization
        vis.enable = True
        vis.show = args.show
        vis.interval = args.interval
        if args.show_dir:
            vis.out_dir = args.show_dir

    if args.out and args.out_item in (None, 'pred'):
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(
            dict(type='DumpResults', out_file_path=args.out))

    if args.per_class_dir:
        cfg.test_evaluator = _with_per_class(cfg.test_evaluator)

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def _with_per_class(evaluator):
    """The test evaluator with ``per_class=True`` on its
    ``MeanClassAccuracy`` (added if it has none)."""
    metrics = [dict(m) for m in (evaluator if isinstance(
        evaluator, (list, tuple)) else [evaluator])]
    ours = [m for m in metrics
            if str(m.get('type', '')).split('.')[-1] == 'MeanClassAccuracy']
    for metric in ours:
        metric['per_class'] = True
    if not ours:
        metrics.append(dict(type='MeanClassAccuracy', per_class=True))
    return metrics


def write_per_class(metrics: dict, classes, out_dir: str) -> dict:
    """Per-class files of the student (and the teacher, ``teacher.*``
    keys, in ``out_dir/teacher``) from the test metrics."""
    written = {}
    for prefix, folder in (('', out_dir),
                           ('teacher.', osp.join(out_dir, 'teacher'))):
        key = f'{prefix}accuracy/confusion_matrix'
        if key in metrics:
            written[prefix or 'student'] = write_per_class_report(
                metrics[key], classes, folder)
    if not written:
        raise KeyError('the test metrics hold no accuracy/confusion_matrix '
                       f'(keys: {sorted(metrics)})')
    return written


def main(argv=None):
    args = parse_args(argv)
    if args.out is None and args.out_item is not None:
        raise ValueError('Please use `--out` argument to specify the '
                         'path of the output file before using `--out-item`.')
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    setup_cpu_distributed(cfg, args.launcher)
    distinct_experiment_name(cfg)
    runner = Runner.from_cfg(format_text_once(cfg))
    metrics = runner.test()
    if args.per_class_dir and is_main_process():
        classes = runner.test_dataloader.dataset.metainfo.get('classes')
        write_per_class(metrics, classes, args.per_class_dir)
    # Every rank holds the same metrics; one writer keeps the file whole.
    if args.out and args.out_item == 'metrics' and is_main_process():
        import mmengine
        mmengine.dump(metrics, args.out)
    return metrics

