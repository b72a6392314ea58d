"""Capture and restore every random number generator a training step uses.

MMEngine seeds the generators once, when the runner is built, and does not
save their state in checkpoints. A resumed run therefore draws its data
augmentation (and dropout, drop-path, ...) from a freshly seeded stream,
not from where the interrupted run stood. The state is kept here as plain
Python ints and CPU tensors so it pickles into a checkpoint that
``torch.load``'s safe (``weights_only``) unpickler accepts.
"""
import random
from contextlib import contextmanager
from typing import Dict

import numpy as np
import torch


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


def set_rng_state(state: Dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    random.setstate(_as_tuples(state['python']))
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _as_tuples(value):
    # random.setstate wants the exact nesting random.getstate gave; a
    # round trip through some serialisers turns tuples into lists.
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        return tuple(_as_tuples(v) for v in value)
    return value


@contextmanager
def preserved_rng_state():
    """Run a block without changing any global generator's state."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
