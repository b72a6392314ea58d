"""Everything dctkd_mm does to make MMRazor 1.0.0 / MMEngine 0.10.7 /
MMPretrain 1.2 work on current PyTorch, in one place.

:func:`apply` runs first on ``import dctkd_mm``. Each fix is a no-op where
the stack already works natively; none edits site-packages, turns safe
checkpoint loading off or widens torch's process-wide allowlist.
"""
from .checkpoint_loading import (CheckpointReadError, UnsafeCheckpointError,
                                 load_checkpoint_file)
from .checkpoint_schemes import register_safe_schemes
from .downloads import (CachedCheckpointReadError, CheckpointDownloadError,
                        DownloadConnectionError, DownloadHTTPError,
                        HashMismatchError, TruncatedDownloadError)
from .launcher import setup_cpu_distributed
from .mmrazor_import import (REPLACED_MODULES, MMRazorFeatureUnavailable,
                             install_quantization_import_guard)
from .plain_unpickling import UnsafePickleError, load_plain_pickle
from .checkpoint_globals import checkpoint_safe_globals
from .safe_load import checkpoint_unpickling

_applied = False


def apply() -> None:
    """Install the import guard and route MMEngine's checkpoint loaders
    through the safe reader (idempotent). The checkpoint allowlist is not
    installed: it applies only inside :func:`load_checkpoint_file`."""
    global _applied
    if _applied:
        return
    install_quantization_import_guard()
    register_safe_schemes()
    _applied = True


__all__ = [
    'apply', 'setup_cpu_distributed', 'install_quantization_import_guard',
    'checkpoint_unpickling', 'checkpoint_safe_globals',
    'MMRazorFeatureUnavailable', 'REPLACED_MODULES', 'load_checkpoint_file',
    'UnsafeCheckpointError', 'CheckpointReadError', 'load_plain_pickle',
    'UnsafePickleError', 'CheckpointDownloadError', 'DownloadConnectionError',
    'DownloadHTTPError', 'TruncatedDownloadError', 'HashMismatchError',
    'CachedCheckpointReadError'
]
