"""``tools/dataset_converters/make_synthetic_scenes.py``: write the
synthetic scene dataset in the Places365-Standard layout.

Example::

    python tools/dataset_converters/make_synthetic_scenes.py \
        data/synthetic_scenes --num-classes 16 --train-per-class 50

See :mod:`dctkd_mm.datasets.synthetic_scenes` for what the classes are.
"""
import argparse
import time

from dctkd_mm.datasets.synthetic_scenes import generate_synthetic_scenes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate synthetic scenes (classes = object '
        'arrangements) in the Places365-Standard layout.')
    parser.add_argument('root', nargs='?', default='data/synthetic_scenes',
                        help='output directory')
    parser.add_argument('--num-classes', type=int, default=16)
    parser.add_argument('--train-per-class', type=int, default=50)
    parser.add_argument('--val-per-class', type=int, default=25)
    parser.add_argument('--image-size', type=int, default=64)
    parser.add_argument('--num-object-types', type=int, default=6)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    summary = generate_synthetic_scenes(
        args.root,
        num_classes=args.num_classes,
        train_per_class=args.train_per_class,
        val_per_class=args.val_per_class,
        image_size=args.image_size,
        num_object_types=args.num_object_types,
        seed=args.seed)
    print(f'Wrote {summary["num_train"]} train and {summary["num_val"]} val '
          f'images of {len(summary["classes"])} classes to {args.root} '
          f'in {time.time() - start:.1f} s:')
    for index, name in enumerate(summary['classes']):
        print(f'  {index:3d} {name}')

