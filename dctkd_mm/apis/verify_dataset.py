"""``tools/dataset_converters/verify_dataset.py``: check that every image
of a configured split exists and decodes.

None of the scene datasets needs converting: ``Places365``,
``ADE20KScene``, ``MITIndoor67`` (dctkd_mm) and ``SUN397`` (MMPretrain)
read the official downloads as they unpack (docs/datasets.md). What an
interrupted download or extraction leaves behind -- a missing, truncated
or undecodable image -- is what this tool finds, before a multi-day run
meets it in its last epoch::

    python tools/dataset_converters/verify_dataset.py \\
        configs/_base_/datasets/places365_bs128.py --split val --nproc 8

It builds the split's dataset from the config (the dctkd_mm datasets
already fail there, naming file and line, on a bad annotation or a missing
image), then decodes every image with ``CheckedLoadImageFromFile``, which
also catches truncated JPEG/PNG files that OpenCV would half-decode
silently. It prints the samples per class, the classes without samples,
and every missing or bad image (a dataset's own existence check,
``check_images``, is turned off so that it does not stop at the first);
``--out`` writes the bad paths one per line. Exit status 1 if any image
is bad or the split cannot be listed (the dataset's error is printed).
"""
import argparse
import inspect
from collections import Counter

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.utils import track_parallel_progress, track_progress

import dctkd_mm  # noqa: F401  (compat layer + registries)
from dctkd_mm.datasets import CheckedLoadImageFromFile
from mmpretrain.registry import DATASETS

_loader = None  # one per worker process, built on first use


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Report missing, truncated or undecodable images of a '
        'dataset split')
    parser.add_argument('config', help='config with *_dataloader entries')
    parser.add_argument(
        '--split', default='val', choices=['train', 'val', 'test'],
        help='which dataloader of the config to check (default: val)')
    parser.add_argument(
        '--decode-backend', default='cv2', choices=['cv2', 'pillow'],
        help="decoder, as LoadImageFromFile's imdecode_backend; SUN397 "
        'needs pillow (some of its .jpg files are other formats)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='decoding processes')
    parser.add_argument('--out', help='write the bad image paths here')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=/data/places365')
    return parser.parse_args(argv)


def build_split(cfg, split):
    """The split's dataset with no pipeline: only its data list is used.

    A dataset that checks its images exist when it lists them
    (``check_images``, e.g. ``Places365``) would stop at the first missing
    one; that check is turned off here, and the decoding pass reports every
    missing image instead."""
    dataset_cfg = cfg[f'{split}_dataloader'].dataset.copy()
    dataset_cfg.pipeline = []
    # Scoped, not init_default_scope: main() may run inside another program.
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        dataset_cls = DATASETS.get(dataset_cfg.type)
        if dataset_cls is not None and 'check_images' in inspect.signature(
                dataset_cls.__init__).parameters:
            dataset_cfg.check_images = False
        return DATASETS.build(dataset_cfg)


def image_problem(task):
    """``None`` if the image decodes, else ``(path, reason)``; never
    raises, so one bad file does not stop the pool."""
    global _loader
    img_path, backend = task
    if _loader is None:
        _loader = CheckedLoadImageFromFile(imdecode_backend=backend)
    try:
        _loader.transform(dict(img_path=img_path))
    except FileNotFoundError:
        return img_path, 'missing'
    except Exception as exc:
        return img_path, f'{type(exc).__name__}: {exc}'
    return None


def verify(dataset, decode_backend='cv2', nproc=1):
    """``(samples per class index, [(bad image, reason)])`` of
    ``dataset``."""
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    tasks = [(info['img_path'], decode_backend) for info in infos]
    if nproc > 1:
        problems = track_parallel_progress(
            image_problem, tasks, nproc, chunksize=64)
    else:
        problems = track_progress(image_problem, tasks)
    counts = Counter(int(info['gt_label']) for info in infos)
    return counts, [p for p in problems if p is not None]


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        dataset = build_split(cfg, args.split)
    except (OSError, ValueError) as exc:
        # The dataset's own message names the file and line; a traceback
        # through the registry adds nothing to it.
        print(f'cannot list the {args.split} split: {exc}')
        return 1
    print(f'{type(dataset).__name__} {args.split}: {len(dataset)} images, '
          f'{len(dataset.CLASSES)} classes')
    counts, bad = verify(dataset, args.decode_backend, args.nproc)
    empty = [c for i, c in enumerate(dataset.CLASSES) if counts[i] == 0]
    print(f'images per class: min {min(counts.values())}, '
          f'max {max(counts.values())}')
    if empty:
        print(f'{len(empty)} classes have no image in this split: '
              f'{", ".join(empty[:20])}{" ..." if len(empty) > 20 else ""}')
    for img_path, reason in bad:
        print(f'BAD {img_path}: {reason}')
    if args.out:
        with open(args.out, 'w') as f:
            f.writelines(img_path + '\n' for img_path, _ in bad)
    print(f'{len(bad)} bad images out of {len(dataset)}')
    return 1 if bad else 0

