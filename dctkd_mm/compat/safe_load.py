"""Let MMEngine checkpoints load under PyTorch's safe ``torch.load``.

Since PyTorch 2.6 ``torch.load`` defaults to ``weights_only=True``: the
unpickler only builds allowlisted types. MMEngine 0.10.7 calls
``torch.load`` without ``weights_only``, and the checkpoints its runner
writes hold a few non-tensor objects (the message hub's ``HistoryBuffer``
and numpy arrays and scalars in the logged history), so ``--resume`` fails
with ``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``.

We keep safe loading on and allowlist exactly those types, under every
name they are pickled by (numpy 1.x wrote ``numpy.core.*``; numpy 2 writes
``numpy._core.*``). A checkpoint holding anything else, such as a pickled
call to ``os.system``, still fails to load, with PyTorch's message naming
the global.
"""
import importlib
import pickle
from typing import Callable, List, Tuple, Union

import numpy as np
import torch

#: Globals found in checkpoints written by MMEngine / MMRazor /
#: MMPretrain runners (model, optimizer, scheduler, message hub, meta).
MMENGINE_CHECKPOINT_GLOBALS = (
    'mmengine.logging.history_buffer.HistoryBuffer',
    'numpy.ndarray',
    'numpy.dtype',
)
#: numpy functions/types pickled under a module path that moved in 2.0.
_NUMPY_RELOCATED = ('multiarray._reconstruct', 'multiarray.scalar')


#: HistoryBuffer's built-in statistics (more may be registered at run time).
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_getattr(owner, name: str):
    """The one ``getattr`` MMEngine checkpoints need.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. A general ``getattr`` would let a
    crafted file walk to ``__globals__`` and ``eval``, so checkpoints get
    this one, which resolves only statistics methods of ``HistoryBuffer``.
    """
    from mmengine.logging import HistoryBuffer
    if (owner is HistoryBuffer and isinstance(name, str)
            and (name in _HISTORY_BUFFER_STATISTICS
                 or name in HistoryBuffer._statistics_methods)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); safe loading '
        'allows only statistics methods of mmengine HistoryBuffer')


def _resolve(dotted: str):
    module, _, name = dotted.rpartition('.')
    return getattr(importlib.import_module(module), name)


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The ``add_safe_globals`` entries for MMEngine checkpoints."""
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        _resolve(name) for name in MMENGINE_CHECKPOINT_GLOBALS
    ]
    for builtins_module in ('builtins', '__builtin__'):
        entries.append((history_buffer_getattr, builtins_module + '.getattr'))
    for relocated in _NUMPY_RELOCATED:
        target = _resolve('numpy._core.' + relocated if hasattr(
            np, '_core') else 'numpy.core.' + relocated)
        for prefix in ('numpy.core.', 'numpy._core.'):
            entries.append((target, prefix + relocated))
    # numpy pickles each dtype with its own class since 1.25
    # (numpy.dtypes.Float64DType, ...); older files use numpy.dtype alone.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            cls = getattr(dtypes, name)
            if isinstance(cls, type) and issubclass(cls, np.dtype):
                entries.append(cls)
    return entries


def allow_mmengine_checkpoints() -> bool:
    """Allowlist MMEngine checkpoint types for safe loading.

    Returns False on a PyTorch without ``add_safe_globals`` (< 2.4), whose
    ``torch.load`` is not restricted by default anyway.
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return False
    entries = checkpoint_safe_globals()
    try:
        add(entries)
    except TypeError:  # torch 2.4/2.5: no (callable, name) pairs
        add([e for e in entries if not isinstance(e, tuple)])
    return True
