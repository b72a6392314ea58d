"""MMPretrain's CIFAR-10/100 datasets, reading their pickled batch files
without running code from them.

MMPretrain 1.2's ``CIFAR10`` reads every batch file and ``batches.meta``
with plain ``pickle.loads(..., encoding='latin1')``, so a crafted
``data_batch_1`` runs any code it names. ``SafeCIFAR10`` /
``SafeCIFAR100`` are the same datasets (arguments, md5 checks, download,
samples, class names) with only the reading replaced by
:func:`dctkd_mm.compat.plain_unpickling.load_plain_pickle`: plain
containers and NumPy arrays of plain numbers, any other global refused
with an error naming the file and the global. The official files
(Python 2 pickles of NumPy arrays) load unchanged.

An exported config (``dctkd_mm.apis.plain_config``) turns them back into
MMPretrain's ``CIFAR10`` / ``CIFAR100``, their nearest registered base.
"""
from typing import List

import mmengine.dist as dist
import numpy as np
from mmengine.fileio import (LocalBackend, exists, get, get_file_backend,
                             join_path)
from mmpretrain.datasets import CIFAR10, CIFAR100
from mmpretrain.datasets.utils import check_md5, download_and_extract_archive
from mmpretrain.registry import DATASETS

from ..compat.plain_unpickling import load_plain_pickle

#: Values per image in a batch's ``data`` rows (3 x 32 x 32, CHW).
IMAGE_SIZE = 3 * 32 * 32


class CIFARFormatError(ValueError):
    """A CIFAR file unpickled safely but does not hold what the format
    says."""


class SafeCIFARReading:
    """The reading of MMPretrain's ``CIFAR10.load_data_list`` /
    ``_load_meta``, through the plain-data unpickler. Mixed in before
    MMPretrain's class, whose attributes (folder, file lists, md5s, meta
    key) it uses."""

    def _read_pickle(self, file_name: str):
        path = join_path(self.data_prefix['root'], self.base_folder,
                         file_name)
        return path, load_plain_pickle(get(path), path, encoding='latin1')

    def _ensure_files(self) -> None:
        """MMPretrain's integrity check and download, unchanged."""
        root = self.data_prefix['root']
        backend = get_file_backend(root, enable_singleton=True)
        if dist.is_main_process() and not self._check_integrity():
            if not isinstance(backend, LocalBackend):
                raise RuntimeError(f'The dataset on {root} is not integrated, '
                                   f'please manually handle it.')
            if self.download:
                download_and_extract_archive(
                    self.url, root, filename=self.filename, md5=self.tgz_md5)
            else:
                raise RuntimeError(
                    f'Cannot find {self.__class__.__name__} dataset in '
                    f'{root}, you can specify `download=True` to download '
                    'automatically.')
        dist.barrier()
        assert self._check_integrity(), \
            'Download failed or shared storage is unavailable. Please ' \
            f'download the dataset manually through {self.url}.'

    def _read_batch(self, file_name: str):
        """``(data (N, 3072) uint8, labels)`` of one batch file."""
        path, entry = self._read_pickle(file_name)
        label_key = 'labels' if isinstance(entry, dict) and \
            'labels' in entry else 'fine_labels'
        if not isinstance(entry, dict) or 'data' not in entry or \
                label_key not in entry:
            # Keys are file data: bounded, and never str() of a container
            # (a deep one would recurse).
            keys = [f'{k[:40]!r}' if isinstance(k, str) else type(k).__name__
                    for k in list(entry)[:10]] if isinstance(entry, dict) \
                else type(entry).__name__
            raise CIFARFormatError(
                f'{path}: a CIFAR batch is a dict with "data" and "labels" '
                f'(CIFAR-100: "fine_labels"); found {keys}')
        data, labels = entry['data'], entry[label_key]
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8
                and data.ndim == 2 and data.shape[1] == IMAGE_SIZE):
            raise CIFARFormatError(
                f'{path}: "data" must be a uint8 array of shape (N, '
                f'{IMAGE_SIZE}), found {type(data).__name__} '
                f'{getattr(data, "dtype", "")} {getattr(data, "shape", "")}')
        if not (isinstance(labels, list) and len(labels) == len(data)):
            raise CIFARFormatError(
                f'{path}: "{label_key}" must be a list of {len(data)} ints '
                f'(one per image), found {type(labels).__name__} of '
                f'length {len(labels) if hasattr(labels, "__len__") else "?"}')
        self._check_labels(labels, path, label_key)
        return data, labels

    def _check_labels(self, labels: list, path: str, label_key: str) -> None:
        """Every label an exact ``int`` in ``[0, num_classes)``, before any
        reaches NumPy or the loss: ``True`` is an ``int`` to ``isinstance``,
        ``-100`` is the loss's ignore index (trained silently), ``10``
        fails iterations later naming no file, and ``2**70`` overflows
        ``np.array``."""
        num_classes = len(type(self).METAINFO['classes'])
        for index, label in enumerate(labels):
            if type(label) is not int:
                raise CIFARFormatError(
                    f'{path}: "{label_key}"[{index}] is a '
                    f'{type(label).__name__}; expected an int class index '
                    f'in [0, {num_classes}).')
            if not 0 <= label < num_classes:
                shown = (str(label) if abs(label) < 10**12 else
                         f'an int of {label.bit_length()} bits')
                raise CIFARFormatError(
                    f'{path}: "{label_key}"[{index}] is {shown}; expected '
                    f'a class index in [0, {num_classes}) '
                    f'({type(self).__name__} has {num_classes} classes).')

    def load_data_list(self) -> List[dict]:
        """Images (HWC uint8) and labels, as MMPretrain's ``CIFAR10``."""
        self._ensure_files()
        files = self.train_list if self.split == 'train' else self.test_list
        imgs, gt_labels = [], []
        for file_name, _ in files:
            data, labels = self._read_batch(file_name)
            imgs.append(data)
            gt_labels.extend(labels)
        imgs = np.vstack(imgs).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        if self.CLASSES is None:
            # As in MMPretrain: the file's class names have the lowest
            # priority.
            self._load_meta()
        return [{'img': img, 'gt_label': int(label)}
                for img, label in zip(imgs, gt_labels)]

    def _load_meta(self) -> None:
        """Class names from the meta file, md5-checked as in MMPretrain."""
        root = self.data_prefix['root']
        path = join_path(root, self.base_folder, self.meta['filename'])
        md5 = self.meta.get('md5', None)
        if not exists(path) or (md5 is not None and not check_md5(path, md5)):
            raise RuntimeError(
                'Dataset metadata file not found or corrupted.' +
                ' You can use `download=True` to download it')
        path, data = self._read_pickle(self.meta['filename'])
        names = data.get(self.meta['key']) if isinstance(data, dict) else None
        if not (isinstance(names, list)
                and all(isinstance(n, str) for n in names)):
            raise CIFARFormatError(
                f'{path}: expected a dict whose "{self.meta["key"]}" is a '
                f'list of class names, found {type(data).__name__}')
        self._metainfo.setdefault('classes', names)


@DATASETS.register_module()
class SafeCIFAR10(SafeCIFARReading, CIFAR10):
    """MMPretrain's ``CIFAR10`` (same arguments) reading its files without
    running code from them."""


@DATASETS.register_module()
class SafeCIFAR100(SafeCIFARReading, CIFAR100):
    """MMPretrain's ``CIFAR100`` (same arguments) reading its files without
    running code from them."""


__all__ = ['SafeCIFAR10', 'SafeCIFAR100', 'SafeCIFARReading',
           'CIFARFormatError']
