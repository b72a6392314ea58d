"""Stop ``import dctkd_mm`` at once, with the fix, when MMCV is missing or
out of range.

``setup.py`` cannot require MMCV: pip cannot express "mmcv or mmcv-lite",
and requiring either would replace the other (a user's full, compiled mmcv
with the lite one, or the reverse). So ``pip install -e .`` alone leaves
MMCV out, and MMPretrain would then fail deep inside its imports with a
bare ``No module named 'mmcv'``. This check runs first in
``dctkd_mm/__init__.py`` and names what to install instead.
"""
import importlib
import re

#: The range every part of the stack accepts: MMPretrain 1.2 needs
#: >= 2.0.0, MMRazor 1.0.0 asserts <= 2.1.0 on import.
MMCV_MIN = (2, 0, 0)
MMCV_MAX = (2, 1, 0)
#: What requirements.txt installs on a fresh machine.
MMCV_PIN = 'mmcv-lite==2.1.0'

_FIX = (f'Install it with\n    pip install "{MMCV_PIN}"\n'
        '(or `pip install -e ".[mmcv-lite]"`, or `pip install -r '
        'requirements.txt`, which pins the tested stack). A full, compiled '
        'mmcv 2.0.x-2.1.x works as well, e.g. `mim install "mmcv==2.1.0"`; '
        'keep the one you have if it is in that range.')


class MissingDependencyError(ImportError):
    """A dependency that ``setup.py`` cannot require is missing or of an
    unsupported version; the message says what to install."""


def _version_tuple(version: str) -> tuple:
    """``'2.0.0rc4'`` -> ``(2, 0, 0)`` (a pre-release counts as its
    release), ``'2.1.0+cu121'`` -> ``(2, 1, 0)``."""
    parts = []
    for piece in version.split('+')[0].split('.')[:3]:
        match = re.match(r'\d+', piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):  # 0rc4: nothing after a pre-release
            break
    return tuple(parts + [0] * (3 - len(parts)))


def check_mmcv() -> str:
    """Import MMCV and return its version, or raise
    :class:`MissingDependencyError` saying what to install."""
    try:
        mmcv = importlib.import_module('mmcv')
    except ImportError as exc:
        raise MissingDependencyError(
            'dctkd_mm needs MMCV 2.0.x-2.1.x (mmcv-lite or the full mmcv), '
            f'which is not installed ({exc}). `pip install -e .` does not '
            'install it so as not to replace an mmcv you already have. '
            + _FIX) from exc
    version = str(getattr(mmcv, '__version__', '0'))
    if not MMCV_MIN <= _version_tuple(version) <= MMCV_MAX:
        raise MissingDependencyError(
            f'dctkd_mm needs MMCV 2.0.x-2.1.x, but mmcv {version} is '
            f'installed at {getattr(mmcv, "__file__", "?")} (MMRazor 1.0.0 '
            'refuses mmcv > 2.1.0, MMPretrain 1.2 refuses < 2.0.0). '
            + _FIX)
    return version


def check_dependencies() -> None:
    """Everything ``import dctkd_mm`` needs that pip may not have
    installed (called before anything imports MMPretrain or MMRazor)."""
    check_mmcv()
