from typing import Iterator, List, Tuple

from mmengine.fileio import join_path
from mmpretrain.registry import DATASETS

from .annotation_files import (ListedOnce, read_lines, require_dir,
                               split_fields, where)
from .scene_dataset import Sample, SceneDataset

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
class ADE20KScene(SceneDataset):
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
    (one directory listing); pass ``check_images=False`` to skip that.

    Args:
        data_root (str): The ``ADEChallengeData2016`` directory.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        check_images (bool): Check that every listed image exists.
            Defaults to True.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == 'val'``.
    """

    NAME = 'ADE20KScene'
    SPLITS = SPLITS
    LAYOUT = LAYOUT

    def locate_split(self, data_root: str) -> Tuple[str, str, Tuple[str]]:
        entries = read_scene_categories(join_path(data_root, SCENE_FILE))
        classes = tuple(sorted({category for _, _, category in entries}))
        return SCENE_FILE, SPLITS[self.split][1], classes

    def read_samples(self) -> Iterator[Sample]:
        """One sample per line of the split, in file order."""
        prefix = SPLITS[self.split][0]
        require_dir(self.img_prefix, 'ADE20KScene', LAYOUT)
        class_to_idx = self.class_to_idx
        for number, name, category in read_scene_categories(self.ann_file):
            if not name.startswith(prefix):
                continue  # the other split's line
            if category not in class_to_idx:
                # Only if the file changed since __init__ read the classes.
                raise ValueError(
                    f'ADE20KScene: category {category[:80]!r} at '
                    f'{where(self.ann_file, number)} is not in the class '
                    f'list read when the dataset was built.')
            yield number, f'{name}.jpg', class_to_idx[category]

    def no_samples_message(self) -> str:
        return (f"ADE20KScene: '{self.ann_file}' lists no "
                f"{SPLITS[self.split][0]}* image for split {self.split!r}.")
