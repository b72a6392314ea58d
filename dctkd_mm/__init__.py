"""dctkd_mm: DCT-driven attention distillation for MMRazor/MMPretrain.

Importing the package (or ``custom_imports=dict(imports=['dctkd_mm'])`` in
a config) checks that MMCV is installed (naming the fix if not), applies
the compatibility layer, then imports MMRazor's models
and engine and registers this plugin's losses, connectors, datasets,
metrics and hooks into the OpenMMLab registries.
"""
# First: MMCV, which setup.py cannot require, with the fix if it is missing.
from .compat.dependencies import check_dependencies

check_dependencies()

from . import compat  # noqa: E402

compat.apply()

import mmpretrain.datasets  # noqa: E402,F401  (fills mmpretrain registries)
import mmpretrain.models  # noqa: E402,F401
import mmrazor.engine  # noqa: E402,F401
import mmrazor.models  # noqa: E402,F401

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = [
    '__version__', 'compat', 'datasets', 'engine', 'evaluation', 'models'
]
