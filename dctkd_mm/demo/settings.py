"""The demo's command line and its default settings."""
import argparse
import math
from typing import List, Optional

from .methods import DEFAULT_METHODS, DEMO_METHODS, REFERENCES
from .training import CPU_WIDTH, FULL_WIDTH, STUDENT_LR

#: The default run (chosen on the baseline and the teacher alone, see
#: docs/demo_regimes.md): at the authors' batch and step the students'
#: seeds agree, and the teacher, trained on more than five times their
#: images, stays well above them; five seeds is the most that fits in 10
#: minutes on 2 cores. 16 classes x 157 validation images = 2512: one
#: top-1 near 50% has a standard error of at most 1 point.
DEFAULTS = dict(num_classes=16, train_per_class=45,
                teacher_train_per_class=250, val_images=2500, image_size=40,
                teacher_epochs=8, epochs=36, warmup_epochs=1, val_every=12,
                batch_size=128, seeds=5, workers=2, threads=1)
#: ``--quick``: the whole pipeline in a minute or two (numbers meaningless).
QUICK = dict(num_classes=5, train_per_class=4, teacher_train_per_class=6,
             val_images=8, image_size=32, teacher_epochs=1, epochs=2,
             warmup_epochs=1, val_every=1, batch_size=32, seeds=2,
             workers=2, threads=1)
HELP = dict(
    num_classes='scene classes', train_per_class='training images per '
    'class of the students', teacher_train_per_class='training images per '
    'class of the teacher: the students\' images and more from the same '
    'generator (as the paper\'s pretrained teachers know more than the '
    'students\' training set)',
    val_images='validation images in all (rounded up to a multiple of '
    '--num-classes)', image_size='image side in pixels',
    teacher_epochs='teacher epochs', epochs='student epochs',
    warmup_epochs='student epochs of linear learning-rate warm-up before '
    'the cosine decay', val_every='validate the students every N epochs '
    '(and after the last): the points of the learning curves',
    batch_size='student batch size (the learning rate --lr is per 32 '
    'images, scaled linearly)',
    seeds='student seeds 0..N-1 per arm (paired: same initial weights '
    'and data order for every arm)', workers='training processes run in '
    'parallel (0: in this process)', threads='torch threads per process')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Synthetic-scene demo: teacher, then every distillation '
        'arm at several paired seeds, then a table with 95% intervals, a '
        'bar chart, learning curves and attention maps (docs/demo.md).')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--methods', default=','.join(DEFAULT_METHODS),
                        help='comma-separated arms, or "all" for every '
                        f'registered one ({",".join(DEMO_METHODS)}); '
                        'default: the paper\'s arms')
    parser.add_argument('--references', default=','.join(REFERENCES),
                        help='comma-separated arms every other arm is '
                        'compared with, where they ran (default: '
                        f'{",".join(REFERENCES)})')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu',
                        help='cuda: full-width networks (base_channels '
                        f'{FULL_WIDTH}) on the GPU; cpu: quarter width '
                        f'({CPU_WIDTH})')
    parser.add_argument('--width', type=int,
                        help='ResNet base_channels (default: by --device)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny smoke-test settings (numbers meaningless)')
    for key, default in DEFAULTS.items():
        parser.add_argument('--' + key.replace('_', '-'), type=int,
                            help=f'{HELP[key]} (default {default}; '
                            f'{QUICK[key]} with --quick)')
    parser.add_argument('--lr', type=float, default=STUDENT_LR,
                        help='student learning rate per 32 images (scaled '
                        f'linearly with --batch-size; default {STUDENT_LR})')
    parser.add_argument('--verbose', action='store_true',
                        help='show the training logs on the console')
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse and resolve: defaults, ``methods`` as a list, ``width`` and
    ``val_per_class``; a clear error for a bad value."""
    parser = build_parser()
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.methods = (list(DEMO_METHODS) if args.methods == 'all' else
                    [m for m in args.methods.split(',') if m])
    args.references = [m for m in args.references.split(',') if m]
    for option, names in (('--methods', args.methods),
                          ('--references', args.references)):
        unknown = [m for m in names if m not in DEMO_METHODS]
        if unknown:
            parser.error(f'{option}: unknown {unknown}; registered: '
                         f'{list(DEMO_METHODS)}')
    for key in ('num_classes', 'train_per_class', 'teacher_train_per_class',
                'val_images', 'image_size', 'teacher_epochs', 'epochs',
                'val_every', 'batch_size', 'seeds', 'threads'):
        if getattr(args, key) < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got '
                         f'{getattr(args, key)}')
    if args.num_classes < 5:
        parser.error('--num-classes must be >= 5 (the report has top-5 '
                     f'accuracy), got {args.num_classes}')
    if not args.lr > 0:
        parser.error(f'--lr must be > 0, got {args.lr}')
    if args.warmup_epochs < 0:
        parser.error('--warmup-epochs must be >= 0, got '
                     f'{args.warmup_epochs}')
    if args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if args.image_size < 32:
        parser.error('--image-size must be >= 32 (the ResNet stages need '
                     f'maps of at least 1 px), got {args.image_size}')
    if args.width is None:
        args.width = FULL_WIDTH if args.device == 'cuda' else CPU_WIDTH
    args.val_per_class = math.ceil(args.val_images / args.num_classes)
    return args


def run_settings(args: argparse.Namespace) -> dict:
    """The settings every run reads (plain values, picklable)."""
    return dict(num_classes=args.num_classes,
                train_per_class=args.train_per_class,
                teacher_train_per_class=args.teacher_train_per_class,
                val_per_class=args.val_per_class,
                image_size=args.image_size, width=args.width,
                teacher_epochs=args.teacher_epochs, epochs=args.epochs,
                warmup_epochs=args.warmup_epochs, val_every=args.val_every,
                batch_size=args.batch_size, lr=args.lr,
                device=args.device, verbose=args.verbose)
