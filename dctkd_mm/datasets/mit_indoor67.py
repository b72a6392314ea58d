from typing import List

from mmengine.fileio import get_file_backend, join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .annotation_files import ImageIndex, read_lines, require_dir, where

IMAGE_DIR = 'Images'
SPLITS = {'train': 'TrainImages.txt', 'test': 'TestImages.txt'}
LINE_FORMAT = '<class>/<image file>'
LAYOUT = (f'data_root to hold {IMAGE_DIR}/<class>/<image> (indoorCVPR_09.tar)'
          ' and the official TrainImages.txt / TestImages.txt')


@DATASETS.register_module()
class MITIndoor67(BaseDataset):
    """MIT Indoor 67 with the official train/test split.

    "Recognizing Indoor Scenes", Quattoni and Torralba, CVPR 2009,
    https://web.mit.edu/torralba/www/indoor.html. 67 classes, 5,360 train
    (80 per class) and 1,340 test (20 per class) images. Layout under
    ``data_root``::

        Images/<class>/<image>.jpg   (indoorCVPR_09.tar)
        TrainImages.txt              gameroom/bt_132294gameroom2.jpg
        TestImages.txt               kitchen/int474.jpg

    The classes are the sub-directories of ``Images/`` sorted
    alphabetically (hidden ones, e.g. ``.DS_Store``, ignored), the order
    torchvision's ``ImageFolder`` and MMPretrain's ``CustomDataset`` use, so
    both splits share indices and only the split file of the requested
    split is needed. A split file line is taken whole as the path under
    ``Images/`` (file names may hold spaces); its first component must be a
    class directory and the image must exist (one listing per class).

    Args:
        data_root (str): The directory holding ``Images/`` and the split
            files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
            ``test_mode`` defaults to ``split == 'test'``.
    """

    def __init__(self, data_root: str, split: str = 'train',
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'MITIndoor67: split must be one of '
                             f'{list(SPLITS)}, got {split!r}')
        require_dir(data_root, 'MITIndoor67', LAYOUT)
        image_root = join_path(data_root, IMAGE_DIR)
        require_dir(image_root, 'MITIndoor67', LAYOUT)
        self.split = split
        backend = get_file_backend(image_root, enable_singleton=True)
        classes = tuple(
            sorted(
                name for name in backend.list_dir_or_file(
                    image_root, list_dir=True, list_file=False)
                if not name.startswith('.')))
        if not classes:
            raise FileNotFoundError(
                f"MITIndoor67: '{image_root}' has no class directory. "
                f'Expected {LAYOUT}. See docs/datasets.md.')
        metainfo = {**(kwargs.pop('metainfo', None) or {}),
                    'classes': classes}
        kwargs.setdefault('test_mode', split == 'test')
        super().__init__(
            ann_file=SPLITS[split],
            data_root=data_root,
            data_prefix=IMAGE_DIR,
            metainfo=metainfo,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(img_path, gt_label)`` per line of the split file."""
        class_to_idx = self.class_to_idx
        images = ImageIndex('MITIndoor67', self.img_prefix)
        data_list = []
        for number, line in read_lines(self.ann_file, 'MITIndoor67',
                                       LAYOUT):
            class_name, _, file_name = line.partition('/')
            if not class_name or not file_name:
                raise ValueError(f'MITIndoor67: malformed line '
                                 f'{where(self.ann_file, number)}: '
                                 f'{line!r}; expected "{LINE_FORMAT}".')
            if class_name not in class_to_idx:
                raise ValueError(
                    f'MITIndoor67: class {class_name!r} at '
                    f'{where(self.ann_file, number)} is not in the class '
                    f"list (the directories of '{self.img_prefix}').")
            img_path = images.path(line, self.ann_file, number)
            data_list.append(
                dict(img_path=img_path, gt_label=class_to_idx[class_name]))
        if not data_list:
            raise ValueError(f"MITIndoor67: '{self.ann_file}' lists no image.")
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Root of dataset: \t{self.data_root}',
            f'Split: \t{self.split}',
        ]
