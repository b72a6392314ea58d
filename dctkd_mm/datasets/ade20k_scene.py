from typing import List, Tuple

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .annotation_files import (ImageIndex, ListedOnce, read_lines,
                               require_dir, split_fields, where)

SCENE_FILE = 'sceneCategories.txt'
SPLITS = {
    # split: (image name prefix, image directory)
    'train': ('ADE_train_', 'images/training'),
    'val': ('ADE_val_', 'images/validation'),
}
LINE_FORMAT = 'ADE_<train|val>_<number> <scene category>'
LAYOUT = (f'data_root to be ADEChallengeData2016/ (ADEChallengeData2016.zip)'
          f' holding {SCENE_FILE}, images/training/ and images/validation/')

SceneEntry = Tuple[int, str, str]  # (line number, image name, category)


def read_scene_categories(path: str) -> List[SceneEntry]:
    """Every ``(line number, image name, category)`` of
    ``sceneCategories.txt``, train and val images alike."""
    entries, seen = [], ListedOnce('ADE20KScene', path, 'image')
    for number, line in read_lines(path, 'ADE20KScene', LAYOUT):
        name, category = split_fields(line, 2, path, number, 'ADE20KScene',
                                      LINE_FORMAT)
        if not name.startswith(tuple(p for p, _ in SPLITS.values())):
            raise ValueError(f'ADE20KScene: malformed line '
                             f'{where(path, number)}: {line[:80]!r}; expected '
                             f'"{LINE_FORMAT}".')
        seen.add(name, number)
        entries.append((number, name, category))
    return entries


@DATASETS.register_module()
class ADE20KScene(BaseDataset):
    """ADE20K scene recognition, read from the SceneParsing challenge
    release.

    "Scene Parsing through ADE20K Dataset", Zhou et al., CVPR 2017,
    http://sceneparsing.csail.mit.edu (``ADEChallengeData2016.zip``); used
    for scene recognition by López-Cifuentes et al., "Semantic-Aware Scene
    Recognition", Pattern Recognition 2020, and the DCT-KD paper (20,210
    train / 2,000 val images, 1,055 classes). ``data_root`` is the unpacked
    ``ADEChallengeData2016/``::

        sceneCategories.txt                 ADE_train_00000001 airport_terminal
        images/training/ADE_train_00000001.jpg
        images/validation/ADE_val_00000001.jpg

    The classes are every scene category named in ``sceneCategories.txt``
    (train and val lines alike), sorted alphabetically (Python string
    order), so both splits share one index per class whichever split a
    category occurs in. Every listed image of the split is checked to exist
    (one directory listing).

    Args:
        data_root (str): The ``ADEChallengeData2016`` directory.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == 'val'``.
    """

    def __init__(self, data_root: str, split: str = 'train',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'ADE20KScene: split must be one of '
                             f'{list(SPLITS)}, got {split!r}')
        require_dir(data_root, 'ADE20KScene', LAYOUT)
        self.split = split
        entries = read_scene_categories(join_path(data_root, SCENE_FILE))
        classes = tuple(sorted({category for _, _, category in entries}))
        metainfo = {**(kwargs.pop('metainfo', None) or {}),
                    'classes': classes}
        kwargs.setdefault('test_mode', split == 'val')
        super().__init__(
            ann_file=SCENE_FILE,
            data_root=data_root,
            data_prefix=SPLITS[split][1],
            metainfo=metainfo,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(img_path, gt_label)`` per line of the split, in file
        order."""
        prefix = SPLITS[self.split][0]
        require_dir(self.img_prefix, 'ADE20KScene', LAYOUT)
        class_to_idx = self.class_to_idx
        images = ImageIndex('ADE20KScene', self.img_prefix)
        data_list = []
        for number, name, category in read_scene_categories(self.ann_file):
            if not name.startswith(prefix):
                continue  # the other split's line
            if category not in class_to_idx:
                # Only if the file changed since __init__ read the classes.
                raise ValueError(
                    f'ADE20KScene: category {category[:80]!r} at '
                    f'{where(self.ann_file, number)} is not in the class '
                    f'list read when the dataset was built.')
            img_path = images.path(f'{name}.jpg', self.ann_file, number)
            data_list.append(
                dict(img_path=img_path, gt_label=class_to_idx[category]))
        if not data_list:
            raise ValueError(f"ADE20KScene: '{self.ann_file}' lists no "
                             f"{prefix}* image for split {self.split!r}.")
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
        ]
