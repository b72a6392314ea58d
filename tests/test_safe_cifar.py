"""SafeCIFAR10 / SafeCIFAR100 (``dctkd_mm/datasets/safe_cifar.py``): the
datasets of the CIFAR-10 configs read the same samples as MMPretrain's
``CIFAR10`` from trees in the official layout (also Python 2 pickles, as
the official archive holds), and a crafted batch or meta file runs nothing.
The datasets are built from the real ``configs/cifar10/`` configs."""
import codecs
import os
import os.path as osp
import pickle
import struct

import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.datasets import CIFAR10, CIFAR100
from mmpretrain.registry import DATASETS
from utils import CIFAR10_MD5_OFF, REPO_ROOT, write_cifar10_tree

from dctkd_mm.apis.student_export import student_config
from dctkd_mm.compat.plain_unpickling import UnsafePickleError
from dctkd_mm.datasets import SafeCIFAR10, SafeCIFAR100
from dctkd_mm.datasets.safe_cifar import CIFARFormatError

CONFIGS = [osp.join(REPO_ROOT, 'configs', 'cifar10', name) for name in (
    'resnet18_8xb16_cifar10.py', 'dct_resnet50_resnet18_8xb16_cifar10.py')]
CIFAR100_MD5_OFF = dict(train_list=[['train', None]],
                        test_list=[['test', None]],
                        meta={'filename': 'meta', 'key': 'fine_label_names',
                              'md5': None})


@pytest.fixture
def md5_off(monkeypatch):
    """Written trees cannot match the official md5s; ``None`` is
    MMPretrain's own "no check" value (SafeCIFAR* inherit the lists)."""
    for cls, values in ((CIFAR10, CIFAR10_MD5_OFF),
                        (CIFAR100, CIFAR100_MD5_OFF)):
        for name, value in values.items():
            monkeypatch.setattr(cls, name, value)


def _dataset_cfg(config: str, root: str, split: str, **extra) -> dict:
    """The config's own dataset dict (test split from ``test_dataloader``),
    data root pointed at ``root``, no download."""
    cfg = Config.fromfile(config)
    loader = cfg.train_dataloader if split == 'train' else cfg.test_dataloader
    return dict(loader.dataset.to_dict(), data_root=root, download=False,
                **extra)


def _samples(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _assert_same_samples(ours, theirs):
    assert len(ours) == len(theirs) > 0
    for a, b in zip(_samples(ours), _samples(theirs)):
        assert a['gt_label'] == b['gt_label']
        assert a['img'].dtype == b['img'].dtype == np.uint8
        np.testing.assert_array_equal(a['img'], b['img'])
    assert list(ours.metainfo['classes']) == list(theirs.metainfo['classes'])


# --- Python 2 pickles, as in the official archive ---------------------------


def _py2_dumps(obj) -> bytes:
    """``obj`` pickled as Python 2's cPickle (protocol 2) wrote the official
    CIFAR files: text and array data as Python 2 ``str`` (BINSTRING),
    arrays through ``numpy.core.multiarray._reconstruct``. Python 3's
    pickle cannot write these opcodes."""
    out = [b'\x80\x02']

    def py2_str(value):
        raw = value if isinstance(value, bytes) else value.encode('latin1')
        out.append(b'U' + bytes([len(raw)]) + raw if len(raw) < 256 else
                   b'T' + struct.pack('<i', len(raw)) + raw)

    def write(value):
        if isinstance(value, dict):
            out.append(b'}(')
            for key, item in value.items():
                write(key)
                write(item)
            out.append(b'u')
        elif isinstance(value, (list, tuple)):
            out.append(b'](' if isinstance(value, list) else b'(')
            for item in value:
                write(item)
            out.append(b'e' if isinstance(value, list) else b't')
        elif isinstance(value, int):
            out.append(b'J' + struct.pack('<i', value))
        elif isinstance(value, (str, bytes)):
            py2_str(value)
        elif isinstance(value, np.ndarray):
            assert value.dtype == np.uint8
            out.append(b'cnumpy.core.multiarray\n_reconstruct\n'
                       b'cnumpy\nndarray\nK\x00\x85')
            py2_str('b')
            out.append(b'\x87R(K\x01')  # (ndarray, (0,), 'b'); state: (1,
            write(tuple(value.shape))
            out.append(b'cnumpy\ndtype\n')
            py2_str('u1')
            out.append(b'K\x00K\x01\x87R(K\x03')  # dtype('u1', 0, 1); (3,
            py2_str('|')
            out.append(b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89')
            py2_str(value.tobytes())
            out.append(b'tb')
        else:
            raise TypeError(type(value))

    write(obj)
    return b''.join(out) + b'.'


def _rewrite_as_python2(root: str) -> None:
    folder = osp.join(root, 'cifar-10-batches-py')
    for name in os.listdir(folder):
        path = osp.join(folder, name)
        with open(path, 'rb') as f:
            content = pickle.load(f)
        with open(path, 'wb') as f:
            f.write(_py2_dumps(content))


@pytest.mark.parametrize('split', ['train', 'test'])
@pytest.mark.parametrize('python2', [False, True], ids=['py3', 'py2'])
@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_reads_the_same_samples_as_mmpretrain(tmp_path, md5_off, config,
                                              split, python2):
    root = write_cifar10_tree(str(tmp_path))
    if python2:
        _rewrite_as_python2(root)
        raw = open(osp.join(root, 'cifar-10-batches-py', 'data_batch_1'),
                   'rb').read()
        assert b'_codecs' not in raw and b'T\x00\x18\x00\x00' in raw
    cfg = _dataset_cfg(config, root, split, pipeline=[])
    assert cfg['type'] == 'SafeCIFAR10'
    ours = DATASETS.build(cfg)
    assert type(ours) is SafeCIFAR10
    theirs = DATASETS.build(dict(cfg, type='CIFAR10'))
    assert len(ours) == (10 if split == 'train' else 4)
    _assert_same_samples(ours, theirs)
    # The class names from batches.meta. MMPretrain reads them only where
    # a class defines no ``classes`` (its CIFAR10 does): call the reader.
    for dataset in (ours, theirs):
        dataset._metainfo.pop('classes')
        dataset._load_meta()
    assert ours.metainfo['classes'] == theirs.metainfo['classes']
    assert ours.metainfo['classes'][0] == 'airplane'


def test_cifar100_reads_the_same_samples_as_mmpretrain(tmp_path, md5_off):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (('train', 6), ('test', 3)):
        content = {'filenames': [f'{name}_{i}.png' for i in range(n)],
                   'batch_label': f'{name} batch', 'coarse_labels':
                   [i % 20 for i in range(n)], 'fine_labels':
                   [(7 * i) % 100 for i in range(n)],
                   'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(content, protocol=2))
    (folder / 'meta').write_bytes(_py2_dumps(
        {'fine_label_names': [f'fine{i}' for i in range(100)],
         'coarse_label_names': [f'coarse{i}' for i in range(20)]}))
    for split in ('train', 'test'):
        cfg = dict(type='SafeCIFAR100', data_root=str(tmp_path),
                   split=split, download=False, pipeline=[])
        ours = DATASETS.build(cfg)
        assert type(ours) is SafeCIFAR100
        theirs = DATASETS.build(dict(cfg, type='CIFAR100'))
        _assert_same_samples(ours, theirs)
        for dataset in (ours, theirs):
            dataset._metainfo.pop('classes')
            dataset._load_meta()
        assert ours.metainfo['classes'] == theirs.metainfo['classes']
        assert ours.metainfo['classes'][7] == 'fine7'


# --- Crafted files ----------------------------------------------------------


class _RunsCommand:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


class _Forged:
    """Pickles as ``func(*args)`` then ``BUILD(state)``."""

    def __init__(self, func, args, state=None):
        self.reduced = (func, args) + ((state, ) if state is not None else ())

    def __reduce__(self):
        return self.reduced


def _replace(root: str, name: str, drop=(), **changes) -> str:
    """Rewrite one file of the tree with ``changes`` to its dict and the
    keys ``drop`` removed."""
    path = osp.join(root, 'cifar-10-batches-py', name)
    with open(path, 'rb') as f:
        content = pickle.load(f)
    content.update(changes)
    for key in drop:
        del content[key]
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=2)
    return path


@pytest.mark.parametrize('name, split', [('data_batch_1', 'train'),
                                         ('test_batch', 'test'),
                                         ('batches.meta', 'train')])
def test_pickled_command_in_a_cifar_file_runs_nothing(tmp_path, md5_off, name,
                                                      split):
    root = write_cifar10_tree(str(tmp_path / 'data'))
    marker = tmp_path / 'PWNED'
    path = _replace(root, name, labels=_RunsCommand(f'touch {marker}'),
                    label_names=_RunsCommand(f'touch {marker}'))
    cfg = _dataset_cfg(CONFIGS[1], root, split, pipeline=[],
                       metainfo=dict(classes=None))
    with pytest.raises(UnsafePickleError) as info:
        DATASETS.build(cfg)
    message = str(info.value)
    assert path in message and 'posix.system' in message, message
    assert not marker.exists(), 'a CIFAR file ran a command'
    # The attack is real: MMPretrain's CIFAR10 runs the command (and then
    # may fail on what it returned).
    try:
        DATASETS.build(dict(cfg, type='CIFAR10'))
    except (TypeError, ValueError):
        pass
    assert marker.exists()


@pytest.mark.parametrize('data, named', [
    (np.array([{'a': 1}] * 2, dtype=object), "'O8'"),
    (_Forged(np._core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
             (1, (2, ), _Forged(np.dtype, ('V8', False, True),
                                (3, '|', None, ('a', ),
                                 {'a': (np.dtype('O'), 0)}, 8, 1, 0)),
              False, b'\x41' * 16)), "'V8'"),
    (_Forged(np._core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
             (1, (2, 3072), np.dtype('u1'), False, b'\x00' * 8)),
     'needs 6144'),
    (_Forged(codecs.encode, ('x', 'rot13')), "_codecs.encode(str, 'latin1')"),
], ids=['object', 'void-hiding-object', 'short-data', 'other-codec'])
def test_forged_numpy_data_is_refused(tmp_path, md5_off, data, named):
    root = write_cifar10_tree(str(tmp_path))
    path = _replace(root, 'data_batch_1', data=data)
    with pytest.raises(UnsafePickleError) as info:
        DATASETS.build(_dataset_cfg(CONFIGS[0], root, 'train'))
    message = str(info.value)
    assert path in message and named in message, message


@pytest.mark.parametrize('changes, named', [
    (dict(data=np.zeros((2, 3072), np.float32)), 'uint8 array'),
    (dict(data=np.zeros((2, 100), np.uint8)), '(N, 3072)'),
    (dict(labels=[1]), 'list of 2 ints'),
    (dict(drop=['labels']), '"labels"'),
])
def test_malformed_batch_names_the_file(tmp_path, md5_off, changes, named):
    root = write_cifar10_tree(str(tmp_path))
    path = _replace(root, 'data_batch_2', **changes)
    with pytest.raises(CIFARFormatError) as info:
        DATASETS.build(_dataset_cfg(CONFIGS[0], root, 'train'))
    assert path in str(info.value) and named in str(info.value)


def test_truncated_batch_names_the_file(tmp_path, md5_off):
    root = write_cifar10_tree(str(tmp_path))
    path = osp.join(root, 'cifar-10-batches-py', 'data_batch_3')
    with open(path, 'rb') as f:
        raw = f.read()
    with open(path, 'wb') as f:
        f.write(raw[:len(raw) // 2])
    with pytest.raises(UnsafePickleError,
                       match='not a readable plain-data pickle') as info:
        DATASETS.build(_dataset_cfg(CONFIGS[0], root, 'train'))
    assert path in str(info.value)


def test_md5_checks_stay_mmpretrain_s(tmp_path):
    """Without the md5 override a written tree fails MMPretrain's own
    integrity check (download=False): the checks were not dropped."""
    root = write_cifar10_tree(str(tmp_path))
    with pytest.raises(RuntimeError, match='Cannot find SafeCIFAR10'):
        DATASETS.build(_dataset_cfg(CONFIGS[0], root, 'train'))


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_exported_config_uses_mmpretrain_cifar10(tmp_path, md5_off, config):
    """The student export's config maps SafeCIFAR10 back to MMPretrain's
    CIFAR10, which builds the exported dataloader."""
    root = write_cifar10_tree(str(tmp_path))
    cfg = student_config(Config.fromfile(config)).to_dict()
    assert cfg['dataset_type'] == 'CIFAR10'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader]['dataset']['type'] == 'CIFAR10', loader
    dataset = DATASETS.build(dict(cfg['test_dataloader']['dataset'],
                                  data_root=root, download=False))
    assert type(dataset) is CIFAR10 and len(dataset) == 4
