"""The shared shape of the scene datasets read from official downloads."""
from typing import Any, Dict, Iterator, List, Tuple

from mmpretrain.datasets import BaseDataset

from .annotation_files import ImageIndex, require_dir

#: ``(line number, image path under the image directory, class index)``
Sample = Tuple[int, str, int]


class SceneDataset(BaseDataset):
    """A scene dataset read from its official download, as MMPretrain's
    ``SUN397`` is: ``data_root`` and a ``split`` name are all a config gives.

    A subclass says where the split is and what its classes are
    (:meth:`locate_split`), and what its annotation file lists
    (:meth:`read_samples`); this class checks the split name and the
    directory, sets ``test_mode`` for the evaluation split, and turns the
    listed samples into the data list, every image path checked by one
    :class:`ImageIndex` (and found to exist unless ``check_images`` is
    False, as ``tools/dataset_converters/verify_dataset.py`` sets it to
    report every missing image instead of the first).

    Args:
        data_root (str): The directory of the unpacked download.
        split (str): One of ``SPLITS``. Defaults to ``'train'``.
        check_images (bool): Check that every listed image exists when the
            data list is loaded (one directory listing per image
            directory). Defaults to True.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == TEST_SPLIT``.
    """

    #: The dataset's name, which starts every error message.
    NAME: str = ''
    #: Split name -> what the subclass needs to find the split.
    SPLITS: Dict[str, Any] = {}
    #: The expected layout under ``data_root``, quoted by errors.
    LAYOUT: str = ''
    #: The split evaluated on (``test_mode`` by default).
    TEST_SPLIT: str = 'val'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 check_images: bool = True,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{self.NAME}: split must be one of '
                             f'{list(self.SPLITS)}, got {split!r}')
        require_dir(data_root, self.NAME, self.LAYOUT)
        self.split = split
        self.check_images = check_images
        ann_file, data_prefix, classes = self.locate_split(data_root)
        metainfo = {**(kwargs.pop('metainfo', None) or {}),
                    'classes': classes}
        kwargs.setdefault('test_mode', split == self.TEST_SPLIT)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            metainfo=metainfo,
            **kwargs)

    def locate_split(self, data_root: str) -> Tuple[str, str, Tuple[str]]:
        """``(annotation file, image directory, class names)`` of
        ``self.split``, the paths relative to ``data_root``; raises naming
        what is missing or malformed."""
        raise NotImplementedError

    def read_samples(self) -> Iterator[Sample]:
        """Every sample of the split, in annotation file order; raises
        naming the file and line of a malformed one."""
        raise NotImplementedError

    def no_samples_message(self) -> str:
        """The error for a split file that lists no image."""
        return f"{self.NAME}: '{self.ann_file}' lists no image."

    def load_data_list(self) -> List[dict]:
        """One ``dict(img_path, gt_label)`` per sample of the split."""
        images = ImageIndex(self.NAME, self.img_prefix, self.check_images)
        data_list = [
            dict(img_path=images.path(path, self.ann_file, number),
                 gt_label=label)
            for number, path, label in self.read_samples()
        ]
        if not data_list:
            raise ValueError(self.no_samples_message())
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
        ]
