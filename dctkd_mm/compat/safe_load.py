"""The one allowlist for reading checkpoints with PyTorch's safe unpickler,
visible only to the thread that is reading one of our checkpoints.

``torch.load(weights_only=True)`` builds tensors and plain containers and
refuses every other global. Checkpoints written by MMEngine runners also
hold the message hub's ``HistoryBuffer`` (with NumPy arrays inside) and,
in older files, NumPy scalars. For those the unpickler gets stand-ins that
only record what the file asks for (:mod:`.numpy_unpickling`,
:mod:`.history_buffer_unpickling`); :func:`~.plain_data.to_plain_data`
then proves the result plain and builds the real values.

PyTorch keeps one process-wide allowlist, and its ``safe_globals``
context edits it: while one thread loads, every other thread's plain
``torch.load(weights_only=True)`` would admit the same extra names. So the
stand-ins are not added there: :func:`checkpoint_unpickling` wraps
PyTorch's ``_get_user_allowed_globals`` once (torch 2.x looks it up by
name on every global it resolves) so that, in the thread inside the
context, it returns the stand-ins *instead of* the process-wide list.
That list is not empty: importing ``torch.distributed.tensor`` and
``torch.nested`` (MMEngine does) adds ``DeviceMesh`` (whose constructor
joins a process group: a checkpoint could make a resume hang in a
rendezvous), ``DTensor``, ``NestedTensor``, ``traceback.StackSummary``
and every built-in exception class; none is plain data, so a checkpoint
read here gets none of them. ``torch.serialization.get_safe_globals()``
never changes.
"""
import threading
from contextlib import contextmanager
from typing import Callable, Dict

import torch

from .checkpoint_globals import checkpoint_safe_globals
from .checkpoint_integrity import verified_checkpoint
from .plain_data import to_plain_data

_thread = threading.local()
_install_lock = threading.Lock()
_installed = False


def _install_thread_scoped_allowlist() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        from torch import _weights_only_unpickler as unpickler
        torch_user_globals = unpickler._get_user_allowed_globals

        def user_allowed_globals() -> Dict[str, Callable]:
            extra = getattr(_thread, 'extra', None)
            if extra is None:  # not our reader: PyTorch's own list
                return torch_user_globals()
            return dict(extra)

        unpickler._get_user_allowed_globals = user_allowed_globals
        _installed = True


@contextmanager
def checkpoint_unpickling():
    """Admit :func:`checkpoint_safe_globals`, and no other name beyond
    PyTorch's defaults, for the ``torch.load`` calls this thread makes
    inside the block; other threads are not affected."""
    _install_thread_scoped_allowlist()
    outer = getattr(_thread, 'extra', None)
    _thread.extra = {name: obj for obj, name in checkpoint_safe_globals()}
    try:
        yield
    finally:
        _thread.extra = outer


def safe_torch_load(file, source: str, map_location=None):
    """``torch.load(file, weights_only=True)`` of a checkpoint whose zip
    CRCs, pickle nesting, calls and globals (and legacy storages) are
    verified first (:mod:`.checkpoint_integrity`), with the stand-ins in
    context, and its result proven plain."""
    buffer = verified_checkpoint(file, source)
    # weights_only is explicit so an environment forcing the unsafe default
    # (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD) cannot turn it off here.
    with checkpoint_unpickling():
        loaded = torch.load(buffer, map_location=map_location,
                            weights_only=True)
    return to_plain_data(loaded)
