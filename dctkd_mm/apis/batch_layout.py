"""The run's batch layout: the recipe's global batch on N processes.

A config declares the global batch its recipe (lr, schedule) is for in
MMEngine's own field ``auto_scale_lr.base_batch_size`` (128 for every zoo
config: the authors' one GPU x 128). MMEngine's
``train_dataloader.batch_size`` is per process, so the global batch of a
run is ``batch_size x world size x optim_wrapper.accumulative_counts``.
:func:`apply_batch_layout` checks that product against the declared batch
before the runner is built and, with ``keep_global_batch``, derives the
per-process batch from it (``tools/train.py --keep-global-batch``). See
docs/training.md, "From one GPU to a cluster".
"""
import os
from dataclasses import dataclass
from typing import Optional


class BatchLayoutError(ValueError):
    """The run's global batch is not the one the config's recipe declares,
    or the declared batch cannot be split over the processes."""


@dataclass
class BatchLayout:
    """What :func:`apply_batch_layout` decided (all numbers global unless
    named per process)."""
    declared_batch: Optional[int]  # auto_scale_lr.base_batch_size
    per_process_batch: int
    world_size: int
    accumulative_counts: int
    lr: Optional[float]
    lr_scaled_from: Optional[float]  # the config's lr, if it was rescaled
    sync_bn: bool
    bn_note: str

    @property
    def global_batch(self) -> int:
        return (self.per_process_batch * self.world_size *
                self.accumulative_counts)

    def describe(self) -> str:
        """The log block ``tools/train.py`` writes at start."""
        declared = ('not declared (no auto_scale_lr.base_batch_size)'
                    if self.declared_batch is None else self.declared_batch)
        lr = self.lr
        if self.lr_scaled_from is not None:
            lr = (f'{self.lr:g} (--auto-scale-lr, MMEngine\'s linear rule: '
                  f'{self.lr_scaled_from:g} x {self.per_process_batch} x '
                  f'{self.world_size} / {self.declared_batch}; it does not '
                  'count accumulation steps)')
        elif self.lr is not None:
            lr = f'{self.lr:g}'
        lines = [
            f'global batch: {self.global_batch}',
            f'recipe batch (auto_scale_lr.base_batch_size): {declared}',
            f'per-process batch: {self.per_process_batch}',
            f'world size: {self.world_size}',
            f'accumulation (optim_wrapper.accumulative_counts): '
            f'{self.accumulative_counts}',
            f'lr: {lr}',
            f'BN synchronised: {"yes" if self.sync_bn else "no"} '
            f'({self.bn_note})',
        ]
        if (self.declared_batch is not None
                and self.global_batch != self.declared_batch):
            lines.append(
                f'NOTE: the global batch {self.global_batch} is not the '
                f'recipe\'s {self.declared_batch} (docs/training.md, "From '
                'one GPU to a cluster")')
        return 'Batch layout:\n    ' + '\n    '.join(lines)


def world_size_from_env(launcher: str) -> int:
    """The number of training processes the launcher started, read from
    the environment it set (before any process group exists)."""
    if launcher == 'none':
        return 1
    for key in {'pytorch': ('WORLD_SIZE', ),
                'slurm': ('SLURM_NTASKS', 'WORLD_SIZE'),
                'mpi': ('OMPI_COMM_WORLD_SIZE', 'WORLD_SIZE')}[launcher]:
        if key in os.environ:
            return int(os.environ[key])
    return 1  # setup_cpu_distributed / init_dist name what is missing


def _ways_out(declared: int, world: int, accum: int) -> str:
    return (
        'Either keep the recipe: add --keep-global-batch (per-process '
        f'batch = {declared} // ({world} x {accum}), the lr unchanged); or '
        'scale the lr linearly to the new global batch with '
        '--auto-scale-lr; or declare another recipe batch explicitly with '
        '--cfg-options auto_scale_lr.base_batch_size=N (the lr stays as '
        'the config sets it). See docs/training.md, "From one GPU to a '
        'cluster".')


def apply_batch_layout(cfg,
                       world_size: int,
                       keep_global_batch: bool = False,
                       auto_scale_lr: bool = False,
                       cuda_available: bool = False) -> BatchLayout:
    """Check (and with ``keep_global_batch`` set) ``cfg``'s per-process
    batch for ``world_size`` processes, rescale the lr if asked to, and ask
    for the student's SyncBN on a multi-GPU run. Changes ``cfg`` in place.

    Refuses (:class:`BatchLayoutError`) a run of several processes whose
    global batch differs from the declared one, unless ``auto_scale_lr``
    (or ``cfg.auto_scale_lr.enable``) opts in. A single process runs the
    config's batch and accumulation as they are (tests, small
    experiments); the log block still states both numbers.
    """
    declared = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    optim_wrapper = cfg.get('optim_wrapper') or {}
    accum = int(optim_wrapper.get('accumulative_counts', 1))
    split = world_size * accum
    if keep_global_batch:
        if declared is None:
            raise BatchLayoutError(
                '--keep-global-batch needs the recipe\'s global batch in '
                '`auto_scale_lr.base_batch_size`; this config declares '
                'none. Add --cfg-options auto_scale_lr.base_batch_size=N.')
        if declared % split:
            raise BatchLayoutError(
                f'--keep-global-batch: the recipe\'s global batch '
                f'{declared} does not divide into {world_size} process(es) '
                f'x {accum} accumulation step(s) = {split}. Use a world '
                f'size and accumulative_counts whose product divides '
                f'{declared}.')
        cfg.train_dataloader.batch_size = declared // split
    per_process = int(cfg.train_dataloader.batch_size)
    global_batch = per_process * split
    scale = auto_scale_lr or bool(
        (cfg.get('auto_scale_lr') or {}).get('enable', False))
    if (declared is not None and global_batch != declared and not scale
            and world_size > 1):
        raise BatchLayoutError(
            f'Refusing to train: global batch {global_batch} '
            f'({per_process} per process x {world_size} process(es) x '
            f'{accum} accumulation step(s)) differs from the global batch '
            f'{declared} the config\'s recipe declares '
            f'(auto_scale_lr.base_batch_size), so the lr '
            f'and the BatchNorm statistics would not be the recipe\'s. '
            + _ways_out(declared, world_size, accum))

    optimizer = optim_wrapper.get('optimizer') or {}
    lr = optimizer.get('lr')
    lr_scaled_from = None
    if scale and declared is not None and global_batch == declared:
        # Nothing to scale; MMEngine's factor (below) would scale by
        # 1 / accumulative_counts.
        cfg.auto_scale_lr.enable = False
    elif scale and declared is not None and lr is not None:
        # MMEngine's Runner.scale_lr (in runner.train()): its factor is
        # per-process batch x world size / base_batch_size.
        factor = per_process * world_size / declared
        if factor != 1:
            lr_scaled_from, lr = lr, lr * factor
    sync_bn, bn_note = _student_sync_bn(cfg, world_size, cuda_available,
                                        per_process)
    return BatchLayout(declared, per_process, world_size, accum, lr,
                       lr_scaled_from, sync_bn, bn_note)


def _student_sync_bn(cfg, world_size: int, cuda_available: bool,
                     per_process: int):
    """Ask for SyncBN of the trained model (the student of a
    distillation, never the frozen teacher) when several GPUs train."""
    micro = f'each process normalises over its {per_process} images'
    if world_size == 1:
        return False, f'one process: BN sees the {per_process} images of ' \
            'each (micro-)batch'
    if not cuda_available:
        return False, ('PyTorch\'s SyncBatchNorm needs CUDA; without it '
                       f'{micro}')
    model = cfg.model
    if 'teacher' in model:
        from mmrazor.registry import MODELS
        from dctkd_mm.models.algorithms.frozen_teacher_distill import \
            FrozenTeacherDistill
        model_type = model.get('type')
        cls = MODELS.get(model_type) if isinstance(model_type, str) \
            else model_type
        if not (isinstance(cls, type)
                and issubclass(cls, FrozenTeacherDistill)):
            return False, (f'{model_type} has no student-only SyncBN; '
                           f'{micro}')
        model.sync_student_bn = True
        return True, 'student SyncBatchNorm; the frozen teacher keeps BN ' \
            'in eval mode'
    if cfg.get('sync_bn') is None:
        cfg.sync_bn = 'torch'  # MMEngine's: the whole (trained) model
    return True, f'sync_bn={cfg.sync_bn!r}: the whole model'
