"""The one allowlist for reading checkpoints with PyTorch's safe unpickler,
applied only while dctkd_mm reads a checkpoint.

``torch.load(weights_only=True)`` builds tensors and plain containers and
refuses every other global. Checkpoints written by MMEngine runners also
hold the message hub's ``HistoryBuffer`` (with NumPy arrays inside) and,
in older files, NumPy scalars. :func:`checkpoint_unpickling` admits
exactly those, inside a ``torch.serialization.safe_globals`` context, so
the process-wide list (``torch.serialization.get_safe_globals()``) and
every other ``torch.load`` in the user's process stay as PyTorch ships
them. NumPy data never reaches NumPy's own reconstruction functions: see
:mod:`.numpy_unpickling`.
"""
import importlib
import pickle
from contextlib import contextmanager
from typing import Callable, List, Tuple, Union

import torch

from .numpy_unpickling import restore_numpy, unpickler_stand_ins

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
    """The ``safe_globals`` entries for MMEngine / MMPretrain / MMRazor
    checkpoints (never to be added process-wide)."""
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        _resolve('mmengine.logging.history_buffer.HistoryBuffer')
    ]
    for builtins_module in ('builtins', '__builtin__'):
        entries.append((history_buffer_getattr, builtins_module + '.getattr'))
    entries.extend(unpickler_stand_ins())
    return entries


@contextmanager
def checkpoint_unpickling():
    """Admit :func:`checkpoint_safe_globals` for the ``torch.load`` calls in
    this block (of this thread's loads; PyTorch keeps one list)."""
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    if safe_globals is None:  # torch < 2.5: its load is not restricted
        yield
        return
    # Only what is not there already: leaving the context removes what it
    # added, and must not remove an entry the user added themselves.
    present = set(torch.serialization.get_safe_globals())
    with safe_globals(
            [e for e in checkpoint_safe_globals() if e not in present]):
        yield


def safe_torch_load(file, map_location=None):
    """``torch.load(file, weights_only=True)`` with the checkpoint
    allowlist in context and NumPy data validated and rebuilt."""
    # weights_only is explicit so an environment forcing the unsafe default
    # (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD) cannot turn it off here.
    with checkpoint_unpickling():
        loaded = torch.load(file, map_location=map_location,
                            weights_only=True)
    return restore_numpy(loaded)
