"""Capture and restore every random number generator a training step uses.

MMEngine seeds the generators once, when the runner is built, and does not
save their state in checkpoints. A resumed run therefore draws its data
augmentation (and dropout, drop-path, ...) from a freshly seeded stream,
not from where the interrupted run stood. The state is kept here as plain
Python ints and CPU tensors so it pickles into a checkpoint that
``torch.load``'s safe (``weights_only``) unpickler accepts.

A state read back from a checkpoint is untrusted: NumPy converts any
object with an ``__array_interface__`` (which a crafted pickle can set on
an ``OrderedDict``) by following its data pointer, so nothing from the
file reaches NumPy, ``random`` or torch before its exact type and range
are proven (:func:`set_rng_state`).
"""
import random
from contextlib import contextmanager
from typing import Dict, List, Sequence

import numpy as np
import torch

#: Words in a Mersenne Twister state (Python's and NumPy's MT19937).
MT_WORDS = 624
#: Where the loop's saved generator state lives in a checkpoint.
CHECKPOINT_KEY = 'message_hub.runtime_info.exact_resume_state.rng'


class CorruptCheckpointStateError(ValueError):
    """A value a resume restores from a checkpoint has the wrong type,
    shape or range (a damaged or crafted checkpoint)."""

    def __init__(self, key: str, expected: str, found: str) -> None:
        super().__init__(
            f'Cannot resume: checkpoint key {key} should be {expected}, but '
            f'holds {found}. The checkpoint is damaged or was not written '
            'by dctkd_mm; resume from another checkpoint of the run.')
        self.key = key


def type_name(value) -> str:
    """How an untrusted value is shown in errors: its type's name only."""
    return f'a {type(value).__name__}'


def get_rng_state() -> Dict:
    """The state of Python's, NumPy's and PyTorch's global generators."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(kind, keys.tolist(), int(pos), int(has_gauss), float(cached)),
        torch=torch.get_rng_state(),
    )
    # Only when CUDA is already in use: querying it would initialise it.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def _sequence(value, length: int, key: str, expected: str) -> Sequence:
    if type(value) not in (list, tuple):
        raise CorruptCheckpointStateError(key, expected, type_name(value))
    if len(value) != length:
        raise CorruptCheckpointStateError(
            key, expected, f'a {type(value).__name__} of {len(value)} items')
    return value


def _int(value, low: int, high: int, key: str, expected: str) -> int:
    # ``type(...) is int``: bool, NumPy integers and int subclasses (whose
    # ``__index__`` may run anything) are refused, not converted.
    if type(value) is not int:
        raise CorruptCheckpointStateError(key, expected, type_name(value))
    if not low <= value <= high:
        raise CorruptCheckpointStateError(key, expected,
                                          'an int out of that range')
    return value


def _mt_words(value, key: str) -> List[int]:
    expected = f'a list of {MT_WORDS} ints in [0, 2**32)'
    words = _sequence(value, MT_WORDS, key, expected)
    for i, word in enumerate(words):
        if type(word) is not int:
            raise CorruptCheckpointStateError(
                key, expected, f'{type_name(word)} at index {i}')
        if not 0 <= word < 2**32:
            raise CorruptCheckpointStateError(
                key, expected, f'an int out of range at index {i}')
    return list(words)


def _python_state(value, key: str) -> tuple:
    version, internal, gauss = _sequence(
        value, 3, key, '(3, 625 ints, None or a float) as random.getstate() '
        'gives')
    _int(version, 3, 3, f'{key}[0]', 'version 3')
    internal = _sequence(internal, MT_WORDS + 1, f'{key}[1]',
                         f'{MT_WORDS} words and a position')
    words = _mt_words(internal[:MT_WORDS], f'{key}[1]')
    pos = _int(internal[MT_WORDS], 0, MT_WORDS, f'{key}[1][{MT_WORDS}]',
               f'a position in [0, {MT_WORDS}]')
    if gauss is not None and type(gauss) is not float:
        raise CorruptCheckpointStateError(f'{key}[2]', 'None or a float',
                                          type_name(gauss))
    return version, tuple(words + [pos]), gauss


def _numpy_state(value, key: str) -> tuple:
    kind, keys, pos, has_gauss, cached = _sequence(
        value, 5, key, "('MT19937', keys, pos, has_gauss, cached)")
    if type(kind) is not str or kind != 'MT19937':
        raise CorruptCheckpointStateError(
            f'{key}[0]', "'MT19937'",
            'another string' if type(kind) is str else type_name(kind))
    words = _mt_words(keys, f'{key}[1]')
    _int(pos, 0, MT_WORDS, f'{key}[2]', f'an int in [0, {MT_WORDS}]')
    _int(has_gauss, 0, 1, f'{key}[3]', 'the int 0 or 1')
    if type(cached) is not float:
        raise CorruptCheckpointStateError(f'{key}[4]', 'a float',
                                          type_name(cached))
    return kind, words, pos, has_gauss, cached


def _byte_tensor(value, numel: int, key: str) -> torch.Tensor:
    expected = f'a CPU uint8 tensor of {numel} elements'
    if type(value) is not torch.Tensor:
        raise CorruptCheckpointStateError(key, expected, type_name(value))
    if (value.dtype != torch.uint8 or value.layout != torch.strided
            or value.device.type != 'cpu' or value.dim() != 1
            or value.numel() != numel):
        raise CorruptCheckpointStateError(
            key, expected,
            f'a {value.device.type} {value.dtype} tensor of shape '
            f'{tuple(value.shape)}')
    return value.detach().contiguous().clone()


def _torch_states(state: dict, key: str) -> Dict[str, object]:
    out = dict(torch=_byte_tensor(state['torch'],
                                  torch.get_rng_state().numel(),
                                  f'{key}.torch'))
    if 'cuda' in state and torch.cuda.is_available():
        cuda = state['cuda']
        if type(cuda) not in (list, tuple) or not (
                0 < len(cuda) <= torch.cuda.device_count()):
            raise CorruptCheckpointStateError(
                f'{key}.cuda', 'a list with one state per visible GPU',
                type_name(cuda) if type(cuda) not in (list, tuple) else
                f'{len(cuda)} states')
        numel = torch.cuda.get_rng_state(0).numel()
        out['cuda'] = [
            _byte_tensor(s, numel, f'{key}.cuda[{i}]')
            for i, s in enumerate(cuda)
        ]
    return out


def validated_rng_state(state, key: str = CHECKPOINT_KEY) -> Dict:
    """``state`` (as :func:`get_rng_state` gave it, possibly read back from
    a checkpoint at ``key``) rebuilt, in the same form, from values of
    proven type and range; raises :class:`CorruptCheckpointStateError`
    naming the key otherwise."""
    if type(state) is not dict:
        raise CorruptCheckpointStateError(
            key, 'a dict with python, numpy and torch states',
            type_name(state))
    for name in ('python', 'numpy', 'torch'):
        if name not in state:
            raise CorruptCheckpointStateError(f'{key}.{name}',
                                              'a generator state', 'nothing')
    return dict(
        python=_python_state(state['python'], f'{key}.python'),
        numpy=_numpy_state(state['numpy'], f'{key}.numpy'),
        **_torch_states(state, key))


def set_rng_state(state: Dict, key: str = CHECKPOINT_KEY) -> None:
    """Restore a state returned by :func:`get_rng_state`, after checking
    it (:func:`validated_rng_state`)."""
    checked = validated_rng_state(state, key)
    random.setstate(checked['python'])
    kind, keys, pos, has_gauss, cached = checked['numpy']
    np.random.set_state(
        (kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(checked['torch'])
    if 'cuda' in checked:
        torch.cuda.set_rng_state_all(checked['cuda'])


@contextmanager
def preserved_rng_state():
    """Run a block without changing any global generator's state."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state, key='the state saved before validation')
