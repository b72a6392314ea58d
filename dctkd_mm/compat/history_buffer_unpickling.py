"""Read MMEngine's ``HistoryBuffer`` from a checkpoint without letting the
file construct one.

Checkpoints written by MMEngine runners pickle the message hub's
``HistoryBuffer`` objects: ``NEWOBJ`` of the class, then ``BUILD`` with a
state holding two NumPy arrays and ``statistics_methods`` (each method
pickled as ``getattr(HistoryBuffer, 'mean')``). The real class's
``__setstate__`` and constructor hand what they get to NumPy, so a forged
state (an object carrying ``__array_interface__``) would make NumPy read
or follow arbitrary memory. The unpickler therefore gets
:class:`PendingHistoryBuffer` under the class's name, which only records
the state; :func:`build_history_buffer` checks it (a dict of exactly the
known keys; NumPy arrays of plain numbers, already built by
:mod:`.numpy_unpickling`; an int length) and only then constructs the real
``HistoryBuffer``.
"""
import pickle
from typing import Any

import numpy as np

from .describe import describe

HISTORY_BUFFER_NAME = 'mmengine.logging.history_buffer.HistoryBuffer'
#: HistoryBuffer's built-in statistics (more may be registered at run time).
_BUILT_IN_STATISTICS = ('min', 'max', 'current', 'mean')
_STATE_KEYS = frozenset(
    ('max_length', '_log_history', '_count_history', 'statistics_methods'))


class PendingHistoryBuffer:
    """Stands for ``HistoryBuffer`` inside the unpickler: records the
    pickled state, builds nothing."""
    __slots__ = ('state', )

    def __init__(self) -> None:
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state


class StatisticsMethodName(str):
    """What ``getattr(HistoryBuffer, name)`` gives inside the unpickler:
    the method's name, checked to be one this process registered."""


def history_buffer_getattr(owner, name):
    """The one ``getattr`` MMEngine checkpoints need.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. A general ``getattr`` would let a
    crafted file walk to ``__globals__`` and ``eval``, so checkpoints get
    this one, which accepts only statistics methods of ``HistoryBuffer``.
    """
    from mmengine.logging import HistoryBuffer
    if (owner is PendingHistoryBuffer and type(name) is str
            and (name in _BUILT_IN_STATISTICS
                 or name in HistoryBuffer._statistics_methods)):
        return StatisticsMethodName(name)
    owner_name = 'HistoryBuffer' if owner is PendingHistoryBuffer else \
        describe(owner)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner_name}, {describe(name)}); '
        'safe loading allows only statistics methods of mmengine '
        'HistoryBuffer')


def build_history_buffer(pending: PendingHistoryBuffer, error) -> Any:
    """The real ``HistoryBuffer`` for a recorded state whose values are
    already plain (NumPy records built). ``error(message)`` makes the
    exception to raise."""
    from mmengine.logging import HistoryBuffer
    state = pending.state
    if type(state) is not dict or not set(state) <= _STATE_KEYS or any(
            type(k) is not str for k in state):
        raise error(f'HistoryBuffer with pickled state {describe(state)}; '
                    f'expected a dict with keys among {sorted(_STATE_KEYS)}')
    log, count = state.get('_log_history'), state.get('_count_history')
    for name, array in (('_log_history', log), ('_count_history', count)):
        if type(array) is not np.ndarray or array.ndim != 1 or \
                array.dtype.kind not in 'biuf':
            raise error(f'HistoryBuffer.{name} is {describe(array)}; '
                        'expected a 1-D NumPy array of numbers')
    if len(log) != len(count):
        raise error(f'HistoryBuffer with {len(log)} values but '
                    f'{len(count)} counts')
    max_length = state.get('max_length', 1000000)
    if type(max_length) is not int or max_length < 1:
        raise error(f'HistoryBuffer.max_length is {describe(max_length)}; '
                    'expected a positive int')
    methods = state.get('statistics_methods', {})
    if type(methods) is not dict or any(
            type(v) is not StatisticsMethodName or k != v
            for k, v in methods.items()):
        raise error('HistoryBuffer.statistics_methods must map each name to '
                    'getattr(HistoryBuffer, name)')
    buffer = HistoryBuffer(max_length=max_length)
    # Arrays of plain numbers, built by our NumPy stand-ins; the methods are
    # already registered in this process (history_buffer_getattr checked).
    buffer._log_history = log[-max_length:].copy()
    buffer._count_history = count[-max_length:].copy()
    return buffer
