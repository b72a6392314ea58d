"""The globals our checkpoints need beyond PyTorch's default allowlist:
the stand-ins of :mod:`.numpy_unpickling` and
:mod:`.history_buffer_unpickling`, under the names files pickle them by.
:mod:`.safe_load` admits them in the reading thread only;
:mod:`.checkpoint_integrity` lets the pre-scan accept exactly these."""
from typing import Callable, List, Tuple, Union

from .history_buffer_unpickling import (HISTORY_BUFFER_NAME,
                                        PendingHistoryBuffer,
                                        history_buffer_getattr)
from .numpy_unpickling import unpickler_stand_ins


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The ``(stand-in, pickled name)`` entries our checkpoints need beyond
    PyTorch's defaults (never to be added process-wide)."""
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        (PendingHistoryBuffer, HISTORY_BUFFER_NAME)
    ]
    for builtins_module in ('builtins', '__builtin__'):
        entries.append((history_buffer_getattr, builtins_module + '.getattr'))
    entries.extend(unpickler_stand_ins())
    return entries
