"""One demo run: a config from ``configs/demo`` turned into an MMEngine
``Runner`` with the demo's data, schedule, width, seed and loss weights.

Runs are plain dicts (``job``) so that worker processes can take them;
everything a run produces stays under its own work dir.
"""
import contextlib
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional

from .data_dependent import data_dependent_options
from .loss_scaling import rescale_distill_losses

#: ResNet widths: ``base_channels`` of the demo (quarter width on a CPU)
#: and of the networks the paper uses (``--device cuda``).
CPU_WIDTH, FULL_WIDTH = 16, 64
#: The demo's students' learning rate at batch 32; another batch size
#: scales it linearly (the same step size per image). 0.025 is the
#: authors' step per image (lr 0.1 for 128); a distillation loss can push
#: the logits several times harder than cross-entropy alone (KD: T * alpha
#: = 3.2), and at 4x this step the baseline alone already comes out at
#: the seed's mercy (docs/demo_regimes.md).
STUDENT_LR, STUDENT_BATCH = 0.025, 32
#: Final feature channels per ``base_channels``: ResNet-18 and ResNet-50.
HEAD_CHANNELS = {18: 8, 50: 32}


def _model_keys(distills: bool):
    """Config paths of (student, teacher) classifiers in a run config."""
    return (('model.architecture', 'model.teacher') if distills else
            ('model', ))


def run_options(settings: dict, data_root: str, seed: int, epochs: int,
                distills: bool, warmup: int = 1,
                val_every: int = 0) -> Dict[str, object]:
    """Dotted config overrides shared by every run: data, classes, width,
    schedule (``warmup`` epochs of linear warm-up, then cosine to zero),
    validation every ``val_every`` epochs (0: after the last only), seed."""
    opts = {f'{loader}.dataset.data_root': data_root
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')}
    opts['train_dataloader.dataset.pipeline.1.crop_size'] = \
        settings['image_size']
    width = opts['width'] = settings['width']
    for key, depth in zip(_model_keys(distills), (18, 50)):
        opts[f'{key}.head.num_classes'] = settings['num_classes']
        opts[f'{key}.backbone.base_channels'] = width
        opts[f'{key}.backbone.stem_channels'] = width
        opts[f'{key}.head.in_channels'] = width * HEAD_CHANNELS[depth]
    # Warm-up, then cosine over the rest. The warm-up leaves at least one
    # epoch of decay; without one, the LinearLR step is a no-op (factor 1)
    # rather than removed, so that every run has the same scheduler list.
    warmup = max(0, min(warmup, epochs - 1))
    opts.update({'train_cfg.max_epochs': epochs,
                 'train_cfg.val_interval': val_every or epochs,
                 'param_scheduler.0.end': max(warmup, 1),
                 'param_scheduler.0.start_factor': 0.1 if warmup else 1.0,
                 'param_scheduler.1.begin': warmup,
                 'param_scheduler.1.end': epochs,
                 'param_scheduler.1.T_max': max(epochs - warmup, 1),
                 'randomness.seed': seed})
    return opts


def teacher_options(settings: dict, data_root: str) -> Dict[str, object]:
    """Overrides of the teacher run (a plain ResNet-50 classifier)."""
    # The teacher's schedule does not follow the students' warm-up or
    # validation settings, so that changing those keeps the cached teacher.
    opts = run_options(settings, data_root, 0, settings['teacher_epochs'],
                       distills=False)
    opts['model.head.in_channels'] = settings['width'] * HEAD_CHANNELS[50]
    return opts


def load_run_config(config_path: str, options: Dict[str, object],
                    loss_factors: Optional[Dict[str, float]] = None):
    """The run's Config: file + ``options``; if ``loss_factors`` is given
    (``{loss name: factor}``, see :mod:`.loss_calibration`), the
    distillation losses rescaled to the demo's maps. Returns
    ``(cfg, loss weights applied)``."""
    from mmengine.config import Config

    cfg = Config.fromfile(config_path)
    # MMEngine writes the config's text five times per run (log, dump,
    # visualizer, message hub); yapf formatting it cost up to 7 s of CPU
    # per distillation run (docs/demo_regimes.md), about 5% of the demo.
    # ``fromfile(format_python_code=False)`` drops the flag for non-lazy
    # configs in MMEngine 0.10.7, hence the attribute.
    object.__setattr__(cfg, '_format_python_code', False)
    config_width = cfg.get('width')
    cfg.merge_from_dict(options)
    if config_width and 'width' in options:
        _scale_connector_channels(cfg, options['width'] / config_width)
    applied = (rescale_distill_losses(cfg, loss_factors)
               if loss_factors is not None else {})
    return cfg, applied


def _scale_connector_channels(cfg, scale: float) -> None:
    """Channel counts of a demo config's connectors and losses are written
    for its ``width``; at another width they scale with it."""
    distiller = cfg.model.get('distiller', {})
    modules = list(distiller.get('connectors', {}).values()) + list(
        distiller.get('distill_losses', {}).values())
    # ``dim_in``: CRD's embedding connectors (their ``dim_out``, the
    # embedding size, does not follow the width). SemCKD lists one
    # channel count per stage.
    for module in modules:
        for key in ('in_channel', 'out_channel', 'in_channels',
                    'out_channels', 'student_channels', 'teacher_channels',
                    'dim_in'):
            if key not in module:
                continue
            value = module[key]
            module[key] = ([int(round(c * scale)) for c in value]
                           if isinstance(value, (list, tuple)) else
                           int(round(value * scale)))


def build_classifier(config_path: str, options: Dict[str, object],
                     checkpoint: Optional[str] = None):
    """The MMPretrain classifier of a demo config with ``options``, in
    eval mode, with the weights of ``checkpoint`` if one is given (read
    through MMEngine's ``load_checkpoint``, hence the project's safe
    reader)."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS
    cfg, _ = load_run_config(config_path, options)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                        logger='silent')
    return model.eval()  # batch statistics of one image are undefined


def stage_map_sizes(settings: dict, config_path: str) -> List[int]:
    """Side of the student's layer1..layer4 outputs on the demo's images,
    from a forward pass of the baseline student."""
    import torch
    model = build_classifier(config_path,
                             run_options(settings, '', 0, 1, False))
    sizes = []
    hooks = [getattr(model.backbone, f'layer{i}').register_forward_hook(
        lambda _m, _i, out: sizes.append(out.shape[-1])) for i in range(1, 5)]
    size = settings['image_size']
    with torch.no_grad():
        model.backbone(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return sizes


def save_student_init(settings: dict, config_path: str, seed: int,
                      path: str) -> None:
    """The student's initial weights for ``seed``, shared by every arm so
    that their students differ only in the training loss."""
    import torch
    from mmengine.logging import MMLogger
    from mmengine.runner import set_random_seed
    # A logger of its own takes init_weights()' per-parameter report,
    # which would otherwise go to the console.
    MMLogger.get_instance(f'demo_init_{time.time_ns()}',
                          log_file=osp.splitext(path)[0] + '.log',
                          log_level='WARNING')
    set_random_seed(seed)
    model = build_classifier(config_path,
                             run_options(settings, '', seed, 1, False))
    model.init_weights()
    # A plain dict: the OrderedDict's ``_metadata`` attribute is not plain
    # data, which a strict checkpoint reader may refuse.
    torch.save({'state_dict': dict(model.state_dict()),
                'meta': {'seed': seed}}, path)


def student_job(method, settings: dict, data_root: str, seed: int,
                init: str, teacher_ckpt: str, work_dir: str,
                loss_factors: Optional[Dict[str, float]] = None) -> dict:
    """A picklable description of one student run."""
    opts = run_options(settings, data_root, seed, settings['epochs'],
                       method.distills, settings.get('warmup_epochs', 1),
                       settings.get('val_every', 0))
    key = _model_keys(method.distills)[0]
    opts[f'{key}.init_cfg'] = dict(type='Pretrained', checkpoint=init)
    batch = settings.get('batch_size', STUDENT_BATCH)
    opts['train_dataloader.batch_size'] = batch
    opts['optim_wrapper.optimizer.lr'] = (
        settings.get('lr', STUDENT_LR) * batch / STUDENT_BATCH)
    if method.distills:
        opts['model.teacher_ckpt'] = teacher_ckpt
    opts.update(data_dependent_options(method.config_path, settings, opts))
    return dict(method=method.name, seed=seed, config=method.config_path,
                options=opts,
                loss_factors=loss_factors if method.distills else None,
                work_dir=osp.join(work_dir, f'{method.name}_seed{seed}'),
                verbose=settings.get('verbose', False))


def run_job(job: dict) -> dict:
    """Train one run; return ``method``, ``seed``, ``seconds`` (wall),
    ``cpu_seconds`` (this process), the final validation metrics and the
    distillation loss weights."""
    from mmengine.runner import Runner

    import dctkd_mm  # noqa: F401  (registries, compat layer)
    work_dir = job['work_dir']
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)  # no stale logs or checkpoints
    os.makedirs(work_dir)
    cfg, weights = load_run_config(job['config'], job['options'],
                                   job.get('loss_factors'))
    if cfg.model.get('distiller') and job.get('loss_factors') is None:
        raise ValueError(f'demo run {job["method"]} seed {job["seed"]}: its '
                         'distillation losses have no map-size factors '
                         '(job["loss_factors"], see demo.loss_calibration)')
    cfg.work_dir = work_dir
    # MMEngine names a run's visualizer (a process-wide instance) after the
    # config and the second it starts: two short runs of one config in
    # one process within a second would share it, and the second would
    # log into the first's work dir.
    cfg.experiment_name = f'{job["method"]}_seed{job["seed"]}_' \
        f'{time.time_ns()}'
    start, cpu_start = time.time(), time.process_time()
    log = osp.join(work_dir, 'console.log')
    with open(log, 'w') as stream:
        quiet = (contextlib.nullcontext() if job.get('verbose') else
                 _redirect_output(stream))
        try:
            with quiet:
                Runner.from_cfg(cfg).train()
        except Exception as exc:
            raise RuntimeError(f'demo run {job["method"]} seed {job["seed"]}'
                               f' ({job["config"]}) failed: {exc}; its log '
                               f'is {log}') from exc
    return dict(method=job['method'], seed=job['seed'],
                seconds=time.time() - start,
                cpu_seconds=time.process_time() - cpu_start,
                **read_final_metrics(work_dir),
                loss_weights={k: v['weight'] for k, v in weights.items()},
                **read_curve_and_losses(work_dir))


@contextlib.contextmanager
def _redirect_output(stream):
    with contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        yield


def newest_scalar_records(work_dir: str) -> List[dict]:
    """The records MMEngine's ``LocalVisBackend`` logged for the newest run
    under ``work_dir`` (its newest ``<timestamp>/vis_data/scalars.json``),
    one dict per line."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no <timestamp>/vis_data/scalars.json '
                                f'under {work_dir}')
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_final_metrics(work_dir: str) -> Dict[str, float]:
    """The last validation metrics MMEngine logged under ``work_dir`` (see
    :func:`newest_scalar_records`)."""
    metrics = None
    for record in newest_scalar_records(work_dir):
        if 'accuracy/top1' in record:
            metrics = record
    if metrics is None:
        raise RuntimeError(f'{work_dir}: the run logged no validation '
                           'metrics (accuracy/top1)')
    return {key.split('/')[-1]: metrics[key]
            for key in ('accuracy/top1', 'accuracy/top5',
                        'accuracy/mean_class') if key in metrics}


def read_curve_and_losses(work_dir: str) -> Dict[str, object]:
    """``curve``: ``[epoch, top1]`` of every validation; ``losses``: each
    logged loss term averaged over the last epoch's training records (the
    weighted values the optimiser saw, to compare the terms' sizes)."""
    curve, train = [], []
    for record in newest_scalar_records(work_dir):
        if 'accuracy/top1' in record:
            curve.append([int(record['step']), record['accuracy/top1']])
        elif 'epoch' in record and any('loss' in k for k in record):
            train.append(record)
    last = [r for r in train if r['epoch'] == max(
        (r['epoch'] for r in train), default=None)]
    keys = sorted({k for r in last for k in r if 'loss' in k})
    losses = {k: sum(r[k] for r in last if k in r) /
              sum(1 for r in last if k in r) for k in keys}
    return dict(curve=curve, losses=losses)


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()
