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
"""
import copy
import os
import os.path as osp
from typing import Callable, Dict, List

from mmengine.registry import DefaultScope, Registry
from mmengine.utils import get_object_from_string

#: Module prefixes whose registered types MMPretrain alone cannot build.
FOREIGN_MODULES = ('dctkd_mm', 'mmrazor')
#: Our dataset types, rewritten as ``CustomDataset``.
OWN_DATASETS = ('Places365', 'ADE20KScene', 'MITIndoor67')
#: MMPretrain's stand-in for our mean class accuracy.
MEAN_CLASS_METRIC = dict(type='SingleLabelMetric', items=('recall', ),
                         average='macro')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: Our training-only dataset wrappers (CRD's ``AuthorsCRDDataset`` adds
#: sample and contrast indices): the export has the dataset they wrap.
DATASET_WRAPPERS = ('AuthorsCRDDataset', )
#: Placeholder MMEngine replaces with the config file's folder on load.
CONFIG_DIR = '{{ fileDirname }}'


class ExportConfigError(ValueError):
    """A config section MMPretrain alone could not build."""


def _registries() -> List[Registry]:
    import mmpretrain.registry as registry
    return [r for r in vars(registry).values() if isinstance(r, Registry)]


def is_foreign(cls) -> bool:
    return cls.__module__.split('.')[0] in FOREIGN_MODULES


def _in_registry_or_parents(registry: Registry, name: str):
    """What ``registry.get(name)`` finds for a name without a scope before
    its fallback: ``name`` in the registry or its nearest ancestor."""
    registry.import_from_location()
    while registry is not None:
        if name in registry.module_dict:
            return registry.module_dict[name]
        registry = registry.parent
    return None


def resolve_type(type_name: str):
    """``(registry, class)`` of a type name in MMPretrain's registries (and
    their MMEngine parents), or ``(None, None)``."""
    if '.' not in type_name:
        return _resolve_plain_name(type_name)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for registry in _registries():
            try:
                cls = registry.get(type_name)
            except (KeyError, ImportError):
                cls = None
            if cls is not None:
                return registry, cls
    return None, None


def _resolve_plain_name(type_name: str):
    """:func:`resolve_type` of a name without a dot, with the same answer:
    ``Registry.get`` of such a name looks in the registry and its
    ancestors, else imports ``type_name`` as a module, which is the same
    attempt for every registry and, for a type name, fails after a search
    of the whole path; it is made once here, not once per registry
    (a config export looks up hundreds of names)."""
    fallback = ...  # not tried yet
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for registry in _registries():
            cls = _in_registry_or_parents(registry, type_name)
            if cls is None:
                if fallback is ...:
                    try:  # as Registry.get
                        fallback = get_object_from_string(type_name)
                    except Exception:
                        raise RuntimeError(f'Failed to get {type_name}')
                cls = fallback
            if cls is not None:
                return registry, cls
    return None, None


def plain_type(type_name: str, where: str) -> str:
    """``type_name`` itself if MMPretrain alone builds it, else the nearest
    base class registered under its own name (``CheckedLoadImageFromFile``
    -> ``LoadImageFromFile``)."""
    registry, cls = resolve_type(type_name)
    if cls is None or not is_foreign(cls):
        return type_name
    for base in cls.__mro__[1:]:
        if is_foreign(base):
            continue
        if registry.get(base.__name__) is base:
            return base.__name__
    raise ExportConfigError(
        f'{where}: type {type_name!r} ({cls.__module__}) has no MMPretrain '
        'equivalent, so the exported config could not be built without '
        'dctkd_mm; remove it from the config before export')


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


def unwrap_dataset(dataset):
    """The dataset inside our training wrappers (:data:`DATASET_WRAPPERS`,
    ``dataset.dataset``), or ``dataset`` itself."""
    while (isinstance(dataset, dict) and isinstance(dataset.get('type'), str)
           and dataset['type'].split('.')[-1] in DATASET_WRAPPERS):
        dataset = dataset['dataset']
    return dataset


def _unwrapped(node: dict, where: str):
    return _rewrite_types(unwrap_dataset(node), f'{where}.dataset', _SPECIAL)


def _dataset_key(dataset: dict) -> str:
    return repr(sorted((k, repr(v)) for k, v in dataset.items()
                       if k != 'pipeline'))


def write_annotation_file(dataset_cfg: dict, path: str) -> dict:
    """Build one of our datasets (without pipeline), write its images and
    labels as a ``CustomDataset`` annotation file at ``path``; return the
    ``data_root`` and ``classes`` the file goes with."""
    from mmpretrain.registry import DATASETS
    cfg = dict(copy.deepcopy(dataset_cfg), pipeline=[])
    name = cfg.get('type')
    try:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            dataset = DATASETS.build(cfg)
    except (OSError, ValueError) as exc:
        raise ExportConfigError(
            f'to export the {name} dataset at data_root='
            f'{cfg.get("data_root")!r} as MMPretrain\'s CustomDataset, its '
            f'image list is read from the data, which failed: {exc}. Point '
            'data_root at the data (--cfg-options), or export without '
            'datasets (--no-data: the config then keeps only the test '
            'pipeline, enough for get_model and the Inferencer)') from exc
    data_root = cfg.get('data_root') or ''
    root = osp.abspath(data_root)
    lines = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        img_path = osp.abspath(info['img_path'])
        rel = osp.relpath(img_path, root)
        lines.append(f'{img_path if rel.startswith("..") else rel} '
                     f'{int(info["gt_label"])}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return dict(data_root=data_root, classes=list(dataset.metainfo['classes']))


def plain_dataloaders(cfg: dict, out_dir: str, name: str,
                      with_data: bool = True) -> Dict[str, str]:
    """Rewrite ``cfg``'s dataloaders (in place) to MMPretrain datasets;
    returns the annotation files written, by dataloader."""
    written, by_dataset = {}, {}
    for loader in DATALOADERS:
        dataset = (cfg.get(loader) or {}).get('dataset')
        if unwrap_dataset(dataset) is not dataset:
            dataset = cfg[loader]['dataset'] = copy.deepcopy(
                unwrap_dataset(dataset))
        if not isinstance(dataset, dict):
            continue
        if dataset.get('type') not in OWN_DATASETS:
            continue
        if not with_data:
            continue  # dropped below
        key = _dataset_key(dataset)
        if key not in by_dataset:
            split = dataset.get('split', loader.split('_')[0])
            file_name = f'{name}_{split}.txt'
            meta = write_annotation_file(dataset, osp.join(out_dir,
                                                           file_name))
            by_dataset[key] = (file_name, meta)
        file_name, meta = by_dataset[key]
        cfg[loader]['dataset'] = dict(
            type='CustomDataset', data_root=meta['data_root'],
            ann_file=f'{CONFIG_DIR}/{file_name}', data_prefix='',
            with_label=True, metainfo=dict(classes=meta['classes']),
            pipeline=dataset.get('pipeline', []))
        written[loader] = osp.join(out_dir, file_name)
    if cfg.get('dataset_type') in OWN_DATASETS:  # MMPretrain's convention
        cfg['dataset_type'] = 'CustomDataset'
    if not with_data:
        test = (cfg.get('test_dataloader') or cfg.get('val_dataloader')
                or {}).get('dataset') or {}
        for key in DATALOADERS + ('val_evaluator', 'test_evaluator',
                                  'train_cfg', 'val_cfg', 'test_cfg',
                                  'optim_wrapper', 'param_scheduler'):
            cfg.pop(key, None)
        cfg['test_dataloader'] = dict(
            dataset=placeholder_dataset(test, name))
    return written


def placeholder_dataset(dataset: dict, name: str) -> dict:
    """The test dataset of a ``with_data=False`` export: typed, because
    ``mmpretrain.get_model(cfg)`` without weights reads
    ``test_dataloader.dataset.type`` (for the class names), and holding
    the test pipeline, which ``ImageClassificationInferencer`` reads. It
    is built lazily (``lazy_init=True``), so building it touches no data.

    Our datasets become a ``CustomDataset`` on the annotation file a
    with-data export writes (``<name>_<split>.txt`` next to the config):
    loading it without that file fails naming it, rather than reading
    ``data_root`` in another layout with other labels. Other datasets
    (MMPretrain's, e.g. CIFAR-10, whose class names ``get_model`` then
    finds) keep their arguments."""
    pipeline = dataset.get('pipeline', [])
    if dataset.get('type') in OWN_DATASETS:
        split = dataset.get('split', 'test')
        return dict(type='CustomDataset',
                    data_root=dataset.get('data_root') or '',
                    ann_file=f'{CONFIG_DIR}/{name}_{split}.txt',
                    data_prefix='', with_label=True, lazy_init=True,
                    pipeline=pipeline)
    if not isinstance(dataset.get('type'), str):
        # The source had no test dataset. CustomDataset wants one of
        # data_root / ann_file / data_prefix; the config's folder serves
        # (never read: the dataset is lazy and no loader is configured).
        return dict(type='CustomDataset', data_root=CONFIG_DIR,
                    lazy_init=True, pipeline=pipeline)
    return dict(copy.deepcopy(dataset), lazy_init=True, pipeline=pipeline)


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
