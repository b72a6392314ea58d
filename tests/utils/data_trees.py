"""Tiny on-disk data trees in the official layouts: the Places365 tree the
training runs read, small Places365, ADE20K and MIT Indoor 67 trees (also
with a short last batch) and the CIFAR-10 python archive."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from .constants import NUM_CLASSES, PER_CLASS


# --- data ------------------------------------------------------------------

# Official Places365 class names look like ``/a/airfield`` or
# ``/b/bakery/shop``; a few real ones keep the multi-level case covered.
_PLACES365_NAMES = ('/a/airfield', '/b/bakery/shop', '/c/canyon',
                    '/d/desert/sand', '/f/forest_path', '/h/harbor',
                    '/k/kitchen', '/l/library/indoor')


def places365_class_names(num_classes: int) -> List[str]:
    """``num_classes`` Places365-style category names, real ones first."""
    names = list(_PLACES365_NAMES[:num_classes])
    names += [f'/z/zone_{i:03d}' for i in range(len(names), num_classes)]
    return names


def _class_image(label: int, num_classes: int, size: Tuple[int, int],
                 rng: np.random.Generator) -> np.ndarray:
    """An HxWx3 uint8 image whose mean colour encodes ``label`` (so a model
    can learn it) plus noise (so no two images are equal)."""
    hue = np.array([(label * 97) % 256, (label * 53 + 40) % 256,
                    255 * label // max(num_classes - 1, 1)], dtype=np.float32)
    noise = rng.normal(0, 25, size=(*size, 3))
    return np.clip(hue + noise, 0, 255).astype(np.uint8)


def make_places365_tree(root: str,
                        num_classes: int = NUM_CLASSES,
                        per_class: int = PER_CLASS,
                        size: Union[int, Tuple[int, int]] = 40,
                        val_per_class: int = 2,
                        seed: int = 0) -> Dict[str, object]:
    """Write a tiny Places365-Standard tree in the official layout::

        root/
          categories_places365.txt       "/a/airfield 0"
          places365_train_standard.txt   "/a/airfield/00000001.jpg 0"
          places365_val.txt              "Places365_val_00000001.jpg 0"
          data_256/a/airfield/00000001.jpg ...
          val_256/Places365_val_00000001.jpg ...

    ``dctkd_mm``'s ``Places365(data_root=root, split=...)`` reads it.
    ``size`` is the side, or ``(height, width)`` for non-square images.

    Returns a dict with ``root``, ``classes``, ``train`` and ``val`` (lists
    of ``(relative path, label)``), ``train_files`` and ``val_files``
    (absolute paths).
    """
    import mmcv
    size = (size, size) if isinstance(size, int) else tuple(size)
    rng = np.random.default_rng(seed)
    classes = places365_class_names(num_classes)
    train: List[Tuple[str, int]] = []
    val: List[Tuple[str, int]] = []
    train_files, val_files = [], []
    val_index = 0
    for label, name in enumerate(classes):
        for i in range(per_class):
            rel = f'{name}/{i + 1:08d}.jpg'
            path = osp.join(root, 'data_256', rel.lstrip('/'))
            mmcv.imwrite(_class_image(label, num_classes, size, rng), path)
            train.append((rel, label))
            train_files.append(path)
        for _ in range(val_per_class):
            val_index += 1
            rel = f'Places365_val_{val_index:08d}.jpg'
            path = osp.join(root, 'val_256', rel)
            mmcv.imwrite(_class_image(label, num_classes, size, rng), path)
            val.append((rel, label))
            val_files.append(path)

    def write(name: str, lines: Sequence[str]) -> None:
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    write('categories_places365.txt',
          [f'{n} {i}' for i, n in enumerate(classes)])
    write('places365_train_standard.txt', [f'{p} {c}' for p, c in train])
    write('places365_val.txt', [f'{p} {c}' for p, c in val])
    return dict(root=root, classes=classes, train=train, val=val,
                train_files=train_files, val_files=val_files)


# --- tiny scene trees in each official layout --------------------------------
# tests/test_datasets.py (docs/datasets.md) and
# tests/test_dataset_listing_checks.py (issue 17 F13). Paths are pathlib.
def write_tree_file(path, text=None):
    """A text file, or a 12x10 JPEG (unique colour) when ``text`` is None."""
    import cv2
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    if text is None:
        colour = abs(hash(str(path))) % 200
        assert cv2.imwrite(str(path), np.full((10, 12, 3), colour, np.uint8))
    else:
        with open(path, 'w') as f:
            f.write(text)


CATEGORIES = ('/a/airfield 0\n/a/apartment_building/outdoor 1\n'
              '/b/bus_interior 2\n')
TRAIN = ('/a/airfield/00000001.jpg 0\n/a/airfield/00000002.jpg 0\n'
         '/a/apartment_building/outdoor/00000001.jpg 1\n'
         '/b/bus_interior/00000001.jpg 2\n')
VAL = ('Places365_val_00000001.jpg 2\nPlaces365_val_00000002.jpg 0\n'
       'Places365_val_00000003.jpg 1\n')


def make_places365(root, sizes=('256', )):
    write_tree_file(root / 'categories_places365.txt', CATEGORIES)
    write_tree_file(root / 'places365_train_standard.txt', TRAIN)
    write_tree_file(root / 'places365_val.txt', VAL)
    for size in sizes:
        for line in TRAIN.split('\n')[:-1]:
            write_tree_file(
                root / f'data_{size}' / line.split()[0].lstrip('/'))
        for line in VAL.split('\n')[:-1]:
            write_tree_file(root / f'val_{size}' / line.split()[0])
    return root


SCENES = ('ADE_train_00000001 airport_terminal\n'
          'ADE_train_00000002 bathroom\n'
          'ADE_train_00000003 airport_terminal\n'
          'ADE_val_00000001 bathroom\n'
          'ADE_val_00000002 abbey\n')  # abbey: only in val


def make_ade20k(root):
    write_tree_file(root / 'sceneCategories.txt', SCENES)
    for line in SCENES.split('\n')[:-1]:
        name = line.split()[0]
        folder = 'training' if 'train' in name else 'validation'
        write_tree_file(root / 'images' / folder / f'{name}.jpg')
    return root


MIT_TRAIN = ('gameroom/bt_132294gameroom2.jpg\nkitchen/int474.jpg\n'
             'airport_inside/airport inside 0001.jpg\n')
MIT_TEST = 'kitchen/int475.jpg\ngameroom/bt_1.jpg\n'


def make_mit67(root):
    write_tree_file(root / 'TrainImages.txt', MIT_TRAIN)
    # CRLF endings, as in files saved on Windows.
    write_tree_file(root / 'TestImages.txt', MIT_TEST.replace('\n', '\r\n'))
    for line in (MIT_TRAIN + MIT_TEST).split('\n')[:-1]:
        write_tree_file(root / 'Images' / line)
    write_tree_file(root / 'Images' / 'kitchen' / 'unlisted.jpg')
    os.makedirs(root / 'Images' / '.hidden_dir')
    return root


# --- scene trees with a short last batch (tests/test_zoo_ckd.py) ------------


def make_ade20k_scenes(root, num_train: int = 5) -> int:
    """An ADE20K tree in the official layout with ``num_train`` training
    images over 2 scenes and 2 val images (one scene only in val); returns
    the class count (3)."""
    scenes = [(f'ADE_train_{i:08d}', ('bathroom', 'kitchen')[i % 2])
              for i in range(1, num_train + 1)]
    scenes += [('ADE_val_00000001', 'kitchen'), ('ADE_val_00000002', 'abbey')]
    write_tree_file(root / 'sceneCategories.txt',
                    ''.join(f'{n} {c}\n' for n, c in scenes))
    for name, _ in scenes:
        split = 'training' if 'train' in name else 'validation'
        write_tree_file(root / 'images' / split / f'{name}.jpg')
    return 3


def make_mit67_scenes(root, num_train: int = 5) -> int:
    """An MIT Indoor 67 tree in the official layout with ``num_train``
    training and 3 test images over 3 classes; returns the class count."""
    classes = ('bar', 'gameroom', 'kitchen')
    train = [f'{classes[i % 3]}/{classes[i % 3]}_{i}.jpg'
             for i in range(num_train)]
    test = [f'{c}/{c}_test.jpg' for c in classes]
    write_tree_file(root / 'TrainImages.txt', '\n'.join(train) + '\n')
    write_tree_file(root / 'TestImages.txt', '\n'.join(test) + '\n')
    for line in train + test:
        write_tree_file(root / 'Images' / line)
    return len(classes)


# --- CIFAR-10 (official layout) ---------------------------------------------

#: MMPretrain's CIFAR10 checks the md5 of the official files; a written tree
#: cannot match them. ``None`` is MMPretrain's own "no check" value.
CIFAR10_MD5_OFF = dict(
    train_list=[[f'data_batch_{i}', None] for i in range(1, 6)],
    test_list=[['test_batch', None]],
    meta={'filename': 'batches.meta', 'key': 'label_names', 'md5': None})


def write_cifar10_tree(root: str, per_batch: int = 2, test_size: int = 4,
                       seed: int = 0) -> str:
    """``root/cifar-10-batches-py/`` as the official python archive
    unpacks: ``data_batch_1..5`` and ``test_batch`` (pickled dicts with
    ``batch_label``, ``labels``, ``data`` (N, 3072) uint8 in CHW order and
    ``filenames``) and ``batches.meta`` (``label_names``,
    ``num_cases_per_batch``, ``num_vis``), pickle protocol 2 like the
    Python 2 originals. Images get a class-dependent colour. Returns
    ``root``."""
    import pickle
    names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
             'horse', 'ship', 'truck']
    rng = np.random.default_rng(seed)
    folder = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)

    def batch(label_name: str, n: int, offset: int) -> dict:
        labels = [int(x) for x in (np.arange(n) + offset) % 10]
        data = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        for i, label in enumerate(labels):
            data[i, label % 3] //= 2
        return {'batch_label': label_name, 'labels': labels,
                'data': data.reshape(n, 3072),
                'filenames': [f'img_{offset + i:05d}.png' for i in range(n)]}

    files = {f'data_batch_{i}': batch(f'training batch {i} of 5', per_batch,
                                      (i - 1) * per_batch)
             for i in range(1, 6)}
    files['test_batch'] = batch('testing batch 1 of 1', test_size, 0)
    files['batches.meta'] = {'num_cases_per_batch': per_batch,
                             'label_names': names, 'num_vis': 3072}
    for name, content in files.items():
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(content, f, protocol=2)
    return root
