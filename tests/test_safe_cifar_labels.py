"""Issue 17 F12: CIFAR labels are checked when the dataset is built.

``-100`` (the loss's ignore index) used to train silently; ``10``, ``-1``
and ``2**70`` failed iterations later naming no file; ``True`` passed as an
``int``. Each is now a ``CIFARFormatError`` naming the batch file, the
label key and the index, with the range expected. The trees are the
official ``cifar-10-batches-py`` / ``cifar-100-python`` layouts, built
through the real CIFAR-10 config's dataset.
"""
import os.path as osp
import pickle

import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.datasets import CIFAR10, CIFAR100
from mmpretrain.registry import DATASETS
from utils import CIFAR10_MD5_OFF, REPO_ROOT, write_cifar10_tree

from dctkd_mm.datasets.safe_cifar import CIFARFormatError

CONFIG = osp.join(REPO_ROOT, 'configs', 'cifar10',
                  'resnet18_8xb16_cifar10.py')


@pytest.fixture
def md5_off(monkeypatch):
    """Written trees cannot match the official md5s; ``None`` is
    MMPretrain's own "no check" value."""
    for name, value in CIFAR10_MD5_OFF.items():
        monkeypatch.setattr(CIFAR10, name, value)
    monkeypatch.setattr(CIFAR100, 'train_list', [['train', None]])
    monkeypatch.setattr(CIFAR100, 'test_list', [['test', None]])


def _relabel(path: str, key: str, index: int, label) -> None:
    with open(path, 'rb') as f:
        content = pickle.load(f)
    content[key][index] = label
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=2)


@pytest.mark.parametrize('label, named', [
    (-100, 'is -100; expected a class index in [0, 10)'),
    (10, 'is 10; expected a class index in [0, 10)'),
    (-1, 'is -1; expected a class index in [0, 10)'),
    (2**70, 'is an int of 71 bits; expected a class index in [0, 10)'),
    (True, 'is a bool; expected an int class index in [0, 10)'),
    (3.0, 'is a float; expected an int'),
    ('3', 'is a str; expected an int'),
    ({'label': 3}, 'is a dict; expected an int'),
    ([3] * 10**5, 'is a list; expected an int'),
], ids=['ignore_index', 'ten', 'minus_one', '2**70', 'bool', 'float', 'str',
        'dict', 'long_list'])
@pytest.mark.parametrize('file_name, split', [('data_batch_3', 'train'),
                                              ('test_batch', 'test')])
def test_bad_label_names_file_and_index(tmp_path, md5_off, label, named,
                                        file_name, split):
    root = write_cifar10_tree(str(tmp_path))
    path = osp.join(root, 'cifar-10-batches-py', file_name)
    _relabel(path, 'labels', 1, label)
    cfg = Config.fromfile(CONFIG)
    loader = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
    assert loader.dataset.type == 'SafeCIFAR10'
    with pytest.raises(CIFARFormatError) as info:
        DATASETS.build(dict(loader.dataset, data_root=root, download=False))
    message = str(info.value)
    assert message.startswith(f'{path}: "labels"[1] {named}'), message
    assert len(message) < 300  # the value is described, never dumped


@pytest.mark.parametrize('label', [100, -1])
def test_cifar100_fine_label_range_is_its_own(tmp_path, md5_off, label):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    fine = [99, 0, 7]
    for name in ('train', 'test'):
        content = {'fine_labels': list(fine), 'coarse_labels': [0, 1, 2],
                   'data': np.zeros((3, 3072), np.uint8)}
        (folder / name).write_bytes(pickle.dumps(content, protocol=2))
    cfg = dict(type='SafeCIFAR100', data_root=str(tmp_path), split='train',
               download=False, pipeline=[])
    # Label 99 is valid for CIFAR-100 (it would not be for CIFAR-10).
    assert [d['gt_label'] for d in DATASETS.build(cfg).load_data_list()
            ] == fine
    _relabel(str(folder / 'train'), 'fine_labels', 2, label)
    with pytest.raises(CIFARFormatError,
                       match=rf'train: "fine_labels"\[2\] is {label}; '
                       r'expected a class index in \[0, 100\) '
                       r'\(SafeCIFAR100 has 100 classes\)'):
        DATASETS.build(cfg)
