"""Run options that the demo's data settings fix for some arms: CRD's
wrapped training set and memory bank, SemCKD's batch-sized modules."""
import functools
from typing import Dict, Tuple


def num_train_images(settings: dict) -> int:
    """The students' training images (``dctkd_mm.demo.data``: the first
    ``train_per_class`` of each class)."""
    return settings['num_classes'] * settings['train_per_class']


#: Wrappers of the training set that take the demo's dataset as their
#: ``dataset`` (its ``data_root`` and pipeline move one level down).
TRAIN_SET_WRAPPERS = ('AuthorsCRDDataset', )


@functools.lru_cache(maxsize=None)
def _data_dependent_parts(config_path: str) -> Tuple[bool, tuple]:
    """Whether the config wraps its training set, and its distillation
    losses as ``(name, type)`` (parsed once per config, not per job)."""
    from mmengine.config import Config

    cfg = Config.fromfile(config_path)
    wrapped = cfg.train_dataloader.dataset.get('type') in TRAIN_SET_WRAPPERS
    losses = cfg.model.get('distiller', {}).get('distill_losses', {})
    return wrapped, tuple((name, str(loss.get('type')).split('.')[-1])
                          for name, loss in losses.items())


def data_dependent_options(config_path: str, settings: dict,
                           opts: Dict[str, object]) -> Dict[str, object]:
    """Overrides that the demo's data settings fix for some configs, read
    from the config itself (``opts`` is changed in place and the new keys
    are returned):

    * a wrapped training set (CRD's ``AuthorsCRDDataset``): the demo's
      ``data_root`` and crop size go to the wrapped dataset, and every
      ``AuthorsCRDLoss`` gets ``sample_n``, the number of training images
      (its memory bank has one row per image: ``--num-classes`` x
      ``--train-per-class``, the students' training list);
    * a loss built for one batch size (``SemCKDLoss``, whose attention
      MLPs are sized by the batch): its ``batch_size`` is the demo's
      ``--batch-size`` and the short last batch is dropped. A batch larger
      than the training set (``--quick``: 32 of 20 images) would leave no
      batch at all; there the batch is the whole set, the one batch every
      other arm trains on too (the learning rate stays the others').
    """
    wrapped, losses = _data_dependent_parts(config_path)
    num_train = num_train_images(settings)
    extra: Dict[str, object] = {}
    if wrapped:
        for key in ('data_root', 'pipeline.1.crop_size'):
            old = f'train_dataloader.dataset.{key}'
            if old in opts:
                extra[f'train_dataloader.dataset.dataset.{key}'] = \
                    opts.pop(old)
    for name, kind in losses:
        prefix = f'model.distiller.distill_losses.{name}'
        if kind == 'AuthorsCRDLoss':
            extra[f'{prefix}.sample_n'] = num_train
        elif kind == 'SemCKDLoss':
            batch = min(opts['train_dataloader.batch_size'], num_train)
            extra['train_dataloader.batch_size'] = batch
            extra[f'{prefix}.batch_size'] = batch
            extra['train_dataloader.drop_last'] = True
    return extra
