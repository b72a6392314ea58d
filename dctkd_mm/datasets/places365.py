from typing import Iterator, List, Optional, Tuple, Union

from mmengine.fileio import get_file_backend, join_path
from mmpretrain.registry import DATASETS

from .annotation_files import (ListedOnce, parse_label, read_lines,
                               require_dir, split_fields, where)
from .scene_dataset import Sample, SceneDataset

CATEGORY_FILE = 'categories_places365.txt'
SPLITS = {
    # split: (annotation file, line format, image dir per image_size)
    'train': ('places365_train_standard.txt', '/<letter>/<class>/<name>.jpg '
              '<index>', {'256': 'data_256', 'large': 'data_large'}),
    'val': ('places365_val.txt', 'Places365_val_<number>.jpg <index>', {
        '256': 'val_256',
        'large': 'val_large'
    }),
}
LAYOUT = (f'data_root to hold {CATEGORY_FILE}, places365_train_standard.txt '
          'and places365_val.txt (filelist_places365-standard.tar) with '
          'data_256/ + val_256/ (small images) or data_large/ + val_large/ '
          '(high-resolution images)')


def read_places365_categories(path: str) -> Tuple[str, ...]:
    """Class names of ``categories_places365.txt``, ordered by index.

    A line ``/a/apartment_building/outdoor 9`` names class 9
    ``apartment_building/outdoor``: the leading one-letter directory is
    dropped, as the Places365 authors' demo does
    (``run_placesCNN_basic.py``, ``line.split(' ')[0][3:]``). The indices
    must be exactly ``0..N-1``, each once, and each name once.
    """
    fmt = '/<letter>/<class>[/<subclass>] <index>'
    lines = read_lines(path, 'Places365', LAYOUT)
    names, seen = {}, ListedOnce('Places365', path, 'class name')
    for number, line in lines:
        category, index = split_fields(line, 2, path, number, 'Places365',
                                       fmt)
        parts = category.strip('/').split('/')
        if not category.startswith('/') or len(parts) < 2 or '' in parts:
            raise ValueError(f'Places365: malformed line '
                             f'{where(path, number)}: {line[:80]!r}; expected '
                             f'"{fmt}".')
        label = parse_label(index, len(lines), path, number, 'Places365',
                            path)
        if label in names:
            raise ValueError(f'Places365: class index {label} at '
                             f'{where(path, number)} was already given to '
                             f'{names[label][:80]!r}.')
        names[label] = '/'.join(parts[1:])
        # '/a/airfield' and '/b/airfield' would be two labels of one name.
        seen.add(names[label], number)
    return tuple(names[i] for i in range(len(lines)))


@DATASETS.register_module()
class Places365(SceneDataset):
    """Places365-Standard, read from the official download.

    "Places: A 10 Million Image Database for Scene Recognition", Zhou et
    al., IEEE TPAMI 2017, http://places2.csail.mit.edu/download.html.
    1,803,460 train and 36,500 val images of 365 classes. Layout under
    ``data_root`` (``filelist_places365-standard.tar`` plus one pair of image
    archives)::

        categories_places365.txt      /a/airfield 0
        places365_train_standard.txt  /a/airfield/00000001.jpg 0
        places365_val.txt             Places365_val_00000001.jpg 165
        data_256/a/airfield/00000001.jpg    (train_256_places365standard.tar)
        val_256/Places365_val_00000001.jpg  (val_256.tar)
        data_large/..., val_large/...       (the high-resolution archives)

    Classes are read from ``categories_places365.txt`` (their count too),
    ordered by the index on each line and named by the category path
    without its leading letter directory: ``airfield``,
    ``apartment_building/outdoor``. Every listed image is checked to exist
    when the data list is loaded, with one directory listing per image
    directory (a few seconds for the train split on a local disk); pass
    ``check_images=False`` to skip that, e.g. on object storage.

    Args:
        data_root (str): The directory holding the files above.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        image_size (str | int, optional): ``'256'`` for ``data_256/`` +
            ``val_256/``, ``'large'`` for ``data_large/`` + ``val_large/``,
            or None to use whichever is present, the 256 one if both are
            (the paper resizes to 256 anyway). Defaults to None.
        check_images (bool): Check that every listed image exists.
            Defaults to True.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == 'val'``.
    """

    NAME = 'Places365'
    SPLITS = SPLITS
    LAYOUT = LAYOUT

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 image_size: Optional[Union[str, int]] = None,
                 check_images: bool = True,
                 **kwargs) -> None:
        self._requested_image_size = image_size
        super().__init__(data_root, split, check_images, **kwargs)

    def locate_split(self, data_root: str) -> Tuple[str, str, Tuple[str]]:
        ann_file, self._line_format, image_dirs = SPLITS[self.split]
        self.image_size = self._resolve_image_size(
            data_root, self._requested_image_size, image_dirs)
        self._category_file = join_path(data_root, CATEGORY_FILE)
        classes = read_places365_categories(self._category_file)
        return ann_file, image_dirs[self.image_size], classes

    @staticmethod
    def _resolve_image_size(data_root: str, image_size, image_dirs) -> str:
        if image_size is not None:
            image_size = str(image_size)
            if image_size not in image_dirs:
                raise ValueError(f"Places365: image_size must be '256', "
                                 f"'large' or None, got {image_size!r}")
            return image_size
        backend = get_file_backend(data_root, enable_singleton=True)
        for size, directory in image_dirs.items():  # '256' first
            if backend.isdir(join_path(data_root, directory)):
                return size
        expected = ' or '.join(f"'{join_path(data_root, d)}/'"
                               for d in image_dirs.values())
        raise FileNotFoundError(
            f'Places365: found no image directory; expected {expected} '
            f'(from the official image archives). See docs/datasets.md.')

    def read_samples(self) -> Iterator[Sample]:
        """One sample per line of the split file."""
        require_dir(self.img_prefix, 'Places365', LAYOUT)
        lines = read_lines(self.ann_file, 'Places365', LAYOUT)
        num_classes = len(self.CLASSES)
        for number, line in lines:
            name, index = split_fields(line, 2, self.ann_file, number,
                                       'Places365', self._line_format)
            label = parse_label(index, num_classes, self.ann_file, number,
                                'Places365', self._category_file)
            # Train paths start with '/' but are relative to data_256/.
            yield number, name.lstrip('/'), label

    def extra_repr(self) -> List[str]:
        return super().extra_repr() + [
            f'Image directory: \t{self.img_prefix}',
        ]
