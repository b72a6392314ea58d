"""Rewrite the non-model sections of a config so that MMPretrain alone
builds them: no ``custom_imports``, no dctkd_mm or MMRazor types.

What the exported student's config needs, besides its model:

- **Transforms, hooks, loops** of ours are subclasses of MMCV / MMEngine
  ones with the same arguments (``CheckedLoadImageFromFile`` only adds an
  error naming a corrupt file); each becomes the nearest base class
  registered under its own name. This matters beyond tidiness: MMPretrain's
  ``ImageClassificationInferencer`` strips only a transform literally named
  ``LoadImageFromFile`` before feeding arrays.
- **Datasets** of ours (``Places365``, ``ADE20KScene``, ``MITIndoor67``)
  become MMPretrain's ``CustomDataset`` reading an annotation file the
  export writes next to the config (``<image path> <label>`` per line,
  paths relative to ``data_root``), listing exactly the images and labels
  our class reads, with the same class names. Writing it needs the data;
  without it, ``with_data=False`` drops the dataloaders except a lazily
  built, typed test dataset holding the test pipeline
  (:func:`placeholder_dataset`; enough for ``get_model`` and the
  Inferencer). Our training-only wrappers (CRD's ``AuthorsCRDDataset``,
  :data:`DATASET_WRAPPERS`) are replaced by the dataset they wrap
  (``dataset.dataset``), which is then exported as above.
- **MeanClassAccuracy** becomes MMPretrain's macro-averaged recall
  (``SingleLabelMetric``), the same number whenever every class occurs in
  the test set (ours skips absent classes, MMPretrain counts them as 0).
- **ClampedTopKAccuracy** becomes MMPretrain's ``Accuracy`` with each
  ``k`` above the model's number of classes ``C`` made ``C``: the number
  ours reports (top-``k`` of ``C <= k`` classes is top-``C``), under
  MMPretrain's key for it (``accuracy/top4`` for 4 classes), where a plain
  ``topk=(1, 5)`` would raise at the first evaluation.

Type names are looked up in :mod:`.type_resolution`, datasets rewritten in
:mod:`.plain_datasets`; this module rewrites the config's sections (and
is where callers import every name of the export from).
"""
from typing import Callable, Dict, List

from .plain_datasets import (DATASET_WRAPPERS, OWN_DATASETS,
                             placeholder_dataset, plain_dataloaders,
                             unwrap_dataset, write_annotation_file)
from .type_resolution import (ExportConfigError, is_foreign, plain_type,
                              resolve_type)

#: MMPretrain's stand-in for our mean class accuracy.
MEAN_CLASS_METRIC = dict(type='SingleLabelMetric', items=('recall', ),
                         average='macro')


def _rewrite_types(node, where: str,
                   special: Dict[str, Callable[[dict, str], object]]):
    """Copy of ``node`` with every ``type`` made MMPretrain-buildable."""
    if isinstance(node, (list, tuple)):
        return type(node)(
            _rewrite_types(v, f'{where}[{i}]', special)
            for i, v in enumerate(node))
    if not isinstance(node, dict):
        return node
    type_name = node.get('type')
    if isinstance(type_name, str) and type_name in special:
        return special[type_name](node, where)
    out = {k: _rewrite_types(v, f'{where}.{k}', special)
           for k, v in node.items()}
    if isinstance(type_name, str):
        out['type'] = plain_type(type_name, where)
    return out


def _mean_class_metric(node: dict, where: str) -> dict:
    return dict(MEAN_CLASS_METRIC)


def _clamped_accuracy(num_classes) -> Callable[[dict, str], dict]:
    """Rewrites ``ClampedTopKAccuracy`` as ``Accuracy`` for a model of
    ``num_classes`` classes (unknown: the ``topk`` is kept)."""
    def rewrite(node: dict, where: str) -> dict:
        out = dict(_rewrite_types(
            {k: v for k, v in node.items() if k != 'type'}, where, {}),
            type='Accuracy')
        topk = node.get('topk', (1, ))
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if isinstance(num_classes, int) and num_classes > 0:
            # dict.fromkeys: (1, 5) on one class is (1, ), not (1, 1).
            topk = tuple(dict.fromkeys(min(k, num_classes) for k in topk))
        out['topk'] = topk
        return out
    return rewrite


def _unwrapped(node: dict, where: str):
    return _rewrite_types(unwrap_dataset(node), f'{where}.dataset', _SPECIAL)


def _keep_type(node: dict, where: str) -> dict:
    out = {k: _rewrite_types(v, f'{where}.{k}', _SPECIAL)
           for k, v in node.items() if k != 'type'}
    return dict(out, type=node['type'])


_SPECIAL: Dict[str, Callable[[dict, str], object]] = {
    'MeanClassAccuracy': _mean_class_metric,
    # Left for plain_dataloaders (it needs the data); contents rewritten.
    **{name: _keep_type for name in OWN_DATASETS},
    # Without data (no plain_dataloaders): the wrapped dataset.
    **{name: _unwrapped for name in DATASET_WRAPPERS},
}


def _plain_hook(hook, where: str, dropped: List[str], special: dict):
    """The hook with an MMPretrain type, or None if it is ours alone."""
    try:
        return _rewrite_types(hook, where, special)
    except ExportConfigError:
        dropped.append(f'{where} ({hook.get("type")})')
        return None


def plain_types(cfg: dict) -> List[str]:
    """Rewrite every section of ``cfg`` except ``model`` (in place) so
    MMPretrain alone builds it, our datasets excepted (see
    :func:`plain_dataloaders`), and drop ``custom_imports``.

    Hooks of ours with no MMEngine/MMPretrain base (checks that guard a
    training run) are dropped: they do not change predictions. Returns
    what was dropped."""
    cfg.pop('custom_imports', None)
    dropped: List[str] = []
    head = (cfg.get('model') or {}).get('head') or {}
    special = dict(_SPECIAL, ClampedTopKAccuracy=_clamped_accuracy(
        head.get('num_classes') if isinstance(head, dict) else None))
    hooks = cfg.get('default_hooks') or {}
    for key in list(hooks):
        if isinstance(hooks[key], dict):
            hook = _plain_hook(hooks[key], f'default_hooks.{key}', dropped,
                               special)
            if hook is None:
                del hooks[key]
            else:
                hooks[key] = hook
    if cfg.get('custom_hooks'):
        cfg['custom_hooks'] = [
            h for h in (_plain_hook(h, f'custom_hooks[{i}]', dropped, special)
                        for i, h in enumerate(cfg['custom_hooks']))
            if h is not None
        ]
    for key in list(cfg):
        if key not in ('model', 'default_hooks', 'custom_hooks'):
            cfg[key] = _rewrite_types(cfg[key], key, special)
    dataset_type = cfg.get('dataset_type')  # a plain string, not a dict
    if isinstance(dataset_type, str) and dataset_type not in OWN_DATASETS:
        cfg['dataset_type'] = plain_type(dataset_type, 'dataset_type')
    return dropped


__all__ = [
    'plain_types', 'plain_dataloaders', 'plain_type', 'resolve_type',
    'is_foreign', 'placeholder_dataset',
    'write_annotation_file', 'ExportConfigError', 'OWN_DATASETS',
    'MEAN_CLASS_METRIC', 'DATASET_WRAPPERS', 'unwrap_dataset'
]
