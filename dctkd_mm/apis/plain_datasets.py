"""Our datasets in an exported config: rewritten as MMPretrain's
``CustomDataset`` on an annotation file written from the data, or, without
the data, a lazily built placeholder holding the test pipeline
(:mod:`dctkd_mm.apis.plain_config`)."""
import copy
import os
import os.path as osp
from typing import Dict

from mmengine.registry import DefaultScope

from .type_resolution import ExportConfigError

#: Our dataset types, rewritten as ``CustomDataset``.
OWN_DATASETS = ('Places365', 'ADE20KScene', 'MITIndoor67')
#: The dataloaders of a config, each with its dataset.
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: Our training-only dataset wrappers (CRD's ``AuthorsCRDDataset`` adds
#: sample and contrast indices): the export has the dataset they wrap.
DATASET_WRAPPERS = ('AuthorsCRDDataset', )
#: Placeholder MMEngine replaces with the config file's folder on load.
CONFIG_DIR = '{{ fileDirname }}'


def unwrap_dataset(dataset):
    """The dataset inside our training wrappers (:data:`DATASET_WRAPPERS`,
    ``dataset.dataset``), or ``dataset`` itself."""
    while (isinstance(dataset, dict) and isinstance(dataset.get('type'), str)
           and dataset['type'].split('.')[-1] in DATASET_WRAPPERS):
        dataset = dataset['dataset']
    return dataset


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
