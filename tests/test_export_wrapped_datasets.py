"""Export of a checkpoint whose config wraps its training set (issue 20).

CRD's configs train on ``AuthorsCRDDataset`` (sample and contrast indices
around the scene dataset: ``train_dataloader.dataset.dataset``), which has
no MMPretrain equivalent. The exported student config has the dataset it
wraps: with data, MMPretrain's ``CustomDataset`` on the annotation file of
the inner dataset; without data, no training loader at all; and without
an output folder, the inner dataset's own config.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import export_cli
from dctkd_mm.apis.plain_config import (is_foreign, resolve_type,
                                        unwrap_dataset)
from dctkd_mm.apis.student_export import student_config
from dctkd_mm.compat import load_checkpoint_file
from utils import (REPO_ROOT, crd_tiny_train_args, train_in_process,
                   types_where, write_tree_file)

pytestmark = pytest.mark.usefixtures('restore_default_scope')

CLASSES = ('airport_inside', 'bakery', 'gameroom', 'kitchen')


def zoo_config(method, pair, dataset):
    return osp.join(REPO_ROOT, 'configs', 'distill', method,
                    f'{method}_{pair}_1xb128-70e_{dataset}.py')


def _plain_mmpretrain_cannot_build(name):
    """What the export must not leave: a type MMPretrain alone cannot
    build."""
    _, cls = resolve_type(name)
    return cls is None or is_foreign(cls)


@pytest.fixture(scope='module')
def mit67_root(tmp_path_factory):
    """MIT Indoor 67's official layout: 8 training images, 2 test ones."""
    root = tmp_path_factory.mktemp('mit67')
    train = [f'{c}/tr{i}_{c}.jpg' for i in range(2) for c in CLASSES]
    test = [f'{c}/te_{c}.jpg' for c in CLASSES[:2]]
    write_tree_file(root / 'TrainImages.txt', '\n'.join(train) + '\n')
    write_tree_file(root / 'TestImages.txt', '\n'.join(test) + '\n')
    for line in train + test:
        write_tree_file(root / 'Images' / line)
    return str(root)


def test_crd_checkpoint_exports_with_its_data(mit67_root, tmp_path):
    """tools/train.py on the CRD config, then the exporter with data: the
    plain config's training set is the wrapped MIT Indoor 67 list, as
    MMPretrain's CustomDataset, and MMPretrain builds every loader."""
    config = zoo_config('crd', 'resnet50_resnet18', 'mit67')
    work_dir = str(tmp_path / 'work')
    train_in_process([config] + crd_tiny_train_args(
        mit67_root, work_dir, 'default_hooks.checkpoint.save_best=None'))
    dumped = glob.glob(osp.join(work_dir, '*.py'))[0]
    assert Config.fromfile(dumped).train_dataloader.dataset.type == \
        'AuthorsCRDDataset'
    out = export_cli.main([dumped, osp.join(work_dir, 'epoch_1.pth'),
                           '--out-dir', str(tmp_path / 'export'),
                           '--name', 'crd_student'])
    exported = load_checkpoint_file(out['checkpoint'])['state_dict']
    assert not [k for k in exported if 'crd' in k]

    text = open(out['config']).read()
    assert 'AuthorsCRDDataset' not in text
    plain = Config.fromfile(out['config'])
    assert types_where(plain.to_dict(), _plain_mmpretrain_cannot_build) == []
    train = plain.train_dataloader.dataset
    assert train.type == 'CustomDataset'
    assert not {'dataset', 'neg_num', 'authors_indexing'} & set(train)
    assert train.ann_file == osp.join(str(tmp_path / 'export'),
                                      'crd_student_train.txt')
    # the training pipeline of the inner dataset, untouched
    steps = [t['type'] for t in train.pipeline]
    assert steps[2:4] == ['RandomCrop', 'RandomFlip']
    from mmpretrain.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        train_set = DATASETS.build(plain.train_dataloader.dataset)
        test_set = DATASETS.build(plain.test_dataloader.dataset)
    assert len(train_set) == 8 and len(test_set) == 2
    assert list(train_set.metainfo['classes']) == list(CLASSES)
    infos = [train_set.get_data_info(i) for i in range(8)]
    assert [osp.basename(i['img_path']) for i in infos] == [
        f'tr{i}_{c}.jpg' for i in range(2) for c in CLASSES]
    assert [int(i['gt_label']) for i in infos] == [0, 1, 2, 3] * 2


@pytest.mark.parametrize('dataset, inner', [('mit67', 'MITIndoor67'),
                                            ('sun397', 'SUN397')])
def test_every_export_mode_has_the_wrapped_dataset(dataset, inner):
    """Without data: no training loader (nor the wrapper); without an
    output folder: the inner dataset's config as it is (our scene
    datasets keep their type, MMPretrain's SUN397 is MMPretrain's)."""
    cfg = Config.fromfile(zoo_config('crd-kd', 'resnet50_resnet18', dataset))
    wrapped = cfg.train_dataloader.dataset
    assert wrapped.type == 'AuthorsCRDDataset'
    assert unwrap_dataset(wrapped.to_dict()) == wrapped.dataset.to_dict()
    plain = student_config(cfg, with_data=False).to_dict()
    assert 'train_dataloader' not in plain
    assert types_where(plain, _plain_mmpretrain_cannot_build) == []
    kept = student_config(cfg).to_dict()
    assert kept['train_dataloader']['dataset']['type'] == inner
    assert kept['train_dataloader']['dataset']['split'] == 'train'
    assert 'AuthorsCRDDataset' not in repr(kept)
    # a dataset that is not wrapped is returned as it is
    val = cfg.val_dataloader.dataset.to_dict()
    assert unwrap_dataset(val) is val
