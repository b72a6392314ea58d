"""Convert a torchvision-layout checkpoint to an MMPretrain one.

    python tools/model_converters/torchvision_to_mmpretrain.py \\
        SRC DST [--force]

SRC: CSAIL's Places365 ``resnet{18,50}_places365.pth.tar``, one of the
authors' ``<ARCH>_<DATASET>_best.pth.tar``, or a torchvision ResNet-18/34/
50/101/152 / MobileNetV2 state dict (format detected from the file).
DST may not be SRC (under any spelling or link) unless ``--force``.
"""
import argparse
import sys

from .torchvision_to_mmpretrain import convert_checkpoint


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='torchvision-layout checkpoint to read')
    parser.add_argument('dst', help='MMPretrain checkpoint to write')
    parser.add_argument('--force', action='store_true',
                        help='allow DST to be SRC (replaced atomically)')
    args = parser.parse_args(argv)
    try:
        info = convert_checkpoint(args.src, args.dst, force=args.force)
    except (ValueError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(info.summary())
    return 0
