from typing import Iterator, Tuple

from mmengine.fileio import get_file_backend, join_path
from mmpretrain.registry import DATASETS

from .annotation_files import (check_path, read_lines, require_dir,
                               require_file, where)
from .scene_dataset import Sample, SceneDataset

IMAGE_DIR = 'Images'
SPLITS = {'train': 'TrainImages.txt', 'test': 'TestImages.txt'}
LINE_FORMAT = '<class>/<image file>'
LAYOUT = (f'data_root to hold {IMAGE_DIR}/<class>/<image> (indoorCVPR_09.tar)'
          ' and the official TrainImages.txt / TestImages.txt')
#: What unpacking leaves next to the class directories (macOS resource
#: forks, Finder files): ignored. Any other directory is refused.
JUNK_DIRS = ('__MACOSX', )


def split_file_classes(data_root: str) -> dict:
    """``{class: 'file:line' where first listed}`` for the classes the
    official split files present under ``data_root`` name, sorted."""
    first_seen = {}
    for split_file in SPLITS.values():
        path = join_path(data_root, split_file)
        backend = get_file_backend(path, enable_singleton=True)
        if not backend.isfile(path):
            continue
        for number, line in read_lines(path, 'MITIndoor67', LAYOUT):
            # Before the class is taken from it: '../x' must not name one.
            check_path(line, path, number, 'MITIndoor67',
                       join_path(data_root, IMAGE_DIR))
            name, sep, _ = line.partition('/')
            if sep and name:  # malformed lines are reported when loading
                first_seen.setdefault(name, where(path, number))
    return dict(sorted(first_seen.items()))


@DATASETS.register_module()
class MITIndoor67(SceneDataset):
    """MIT Indoor 67 with the official train/test split.

    "Recognizing Indoor Scenes", Quattoni and Torralba, CVPR 2009,
    https://web.mit.edu/torralba/www/indoor.html. 67 classes, 5,360 train
    (80 per class) and 1,340 test (20 per class) images. Layout under
    ``data_root``::

        Images/<class>/<image>.jpg   (indoorCVPR_09.tar)
        TrainImages.txt              gameroom/bt_132294gameroom2.jpg
        TestImages.txt               kitchen/int474.jpg

    The classes are those the official split files name (both files, if
    both are there), sorted alphabetically: the order torchvision's
    ``ImageFolder`` gives the official tree, so both splits share indices.
    Each must have its directory under ``Images/``; hidden entries and
    ``__MACOSX`` (a tree unpacked on a Mac) are ignored, and any other
    directory is refused by name rather than becoming a class that shifts
    every label. A split file line is taken whole as the path under
    ``Images/`` (file names may hold spaces); its first component must be a
    class directory and the image must exist (one listing per class;
    ``check_images=False`` skips that).

    Args:
        data_root (str): The directory holding ``Images/`` and the split
            files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        check_images (bool): Check that every listed image exists.
            Defaults to True.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == 'test'``.
    """

    NAME = 'MITIndoor67'
    SPLITS = SPLITS
    LAYOUT = LAYOUT
    TEST_SPLIT = 'test'

    def locate_split(self, data_root: str) -> Tuple[str, str, Tuple[str]]:
        image_root = join_path(data_root, IMAGE_DIR)
        require_dir(image_root, 'MITIndoor67', LAYOUT)
        require_file(join_path(data_root, SPLITS[self.split]), 'MITIndoor67',
                     LAYOUT)
        return SPLITS[self.split], IMAGE_DIR, self._classes(
            data_root, image_root)

    @staticmethod
    def _classes(data_root: str, image_root: str) -> tuple:
        """The classes the split files name, each checked to have its
        directory under ``Images/``; a directory that is neither a class
        nor unpacking junk (hidden, ``__MACOSX``) is refused by name, so a
        stray directory can never shift the labels."""
        listed = split_file_classes(data_root)
        backend = get_file_backend(image_root, enable_singleton=True)
        dirs = {
            name for name in backend.list_dir_or_file(
                image_root, list_dir=True, list_file=False)
            if not name.startswith('.') and name not in JUNK_DIRS
        }
        for name, seen_at in listed.items():
            if name not in dirs:
                raise ValueError(
                    f'MITIndoor67: class {name[:80]!r} at {seen_at} has no '
                    f"directory '{join_path(image_root, name)}'. Expected "
                    f'{LAYOUT}. See docs/datasets.md.')
        strays = sorted(dirs - set(listed))
        if strays:
            raise ValueError(
                f"MITIndoor67: '{image_root}' holds directories that are "
                f'not classes of {" / ".join(SPLITS.values())}: {strays}. '
                'Remove them (hidden and __MACOSX directories are ignored); '
                'the classes are the ones the split files name.')
        return tuple(listed)

    def read_samples(self) -> Iterator[Sample]:
        """One sample per line of the split file."""
        class_to_idx = self.class_to_idx
        for number, line in read_lines(self.ann_file, 'MITIndoor67',
                                       LAYOUT):
            class_name, _, file_name = line.partition('/')
            if not class_name or not file_name:
                raise ValueError(f'MITIndoor67: malformed line '
                                 f'{where(self.ann_file, number)}: '
                                 f'{line[:80]!r}; expected "{LINE_FORMAT}".')
            if class_name not in class_to_idx:
                raise ValueError(
                    f'MITIndoor67: class {class_name[:80]!r} at '
                    f'{where(self.ann_file, number)} is not in the class '
                    f"list (the directories of '{self.img_prefix}').")
            yield number, line, class_to_idx[class_name]
