"""Convert a torchvision-layout checkpoint to an MMPretrain one; see
``dctkd_mm.model_converters.convert_cli``.

    python tools/model_converters/torchvision_to_mmpretrain.py \\
        SRC DST [--force]
"""
import sys

from dctkd_mm.model_converters.convert_cli import main

if __name__ == '__main__':
    sys.exit(main())
