"""What dctkd_mm puts into the checkpoints it writes, beyond MMEngine's.

* The message hub's ``HistoryBuffer`` objects hold NumPy arrays. The
  checkpoints written here store them as plain dicts of tensors (no NumPy,
  no custom class), so reading them needs no allowlist at all; they become
  ``HistoryBuffer`` objects again when a run resumes
  (:func:`plain_message_hub` / :func:`restore_message_hub`). Any other
  NumPy value in the checkpoint becomes a tensor (numbers), a list
  (strings) or a Python number.
* With gradient accumulation, a checkpoint written between two optimizer
  steps also stores the gradients accumulated so far, which a resumed run
  puts back before its first step, so it continues exactly
  (:func:`partial_accumulation` / :func:`restore_partial_accumulation`).
"""
import logging
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.model import is_model_wrapper

#: Tag of a HistoryBuffer stored as a plain dict.
HISTORY_BUFFER_TAG = '__mmengine_history_buffer__'
#: Checkpoint key of the gradients of an unfinished accumulation.
PARTIAL_ACCUMULATION_KEY = 'partial_accumulation'


def numpy_free(value: Any) -> Any:
    """``value`` with NumPy arrays as tensors and NumPy scalars as Python
    numbers (containers rebuilt)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in 'biufc':
            return torch.from_numpy(np.ascontiguousarray(value))
        return numpy_free(value.tolist())  # strings etc.: plain lists
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, HistoryBuffer):
        log, count = value.data
        return {HISTORY_BUFFER_TAG: dict(
            max_length=value.max_length,
            log_history=torch.from_numpy(np.array(log)),
            count_history=torch.from_numpy(np.array(count)))}
    if isinstance(value, dict):
        out = value.copy()  # keeps the type (OrderedDict, Counter, ...)
        for key, item in value.items():
            out[key] = numpy_free(item)
        return out
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(numpy_free(v) for v in value)
    return value


def plain_message_hub(checkpoint: dict) -> None:
    """Make ``checkpoint`` NumPy- and HistoryBuffer-free, in place."""
    for key in list(checkpoint):
        if key not in ('state_dict', 'optimizer'):  # tensors already
            checkpoint[key] = numpy_free(checkpoint[key])


def restore_message_hub(checkpoint: dict) -> None:
    """Turn the plain dicts of :func:`plain_message_hub` back into
    ``HistoryBuffer`` objects, in place (before MMEngine reads them).

    The values come from a file: each is checked to be exactly what
    :func:`numpy_free` writes (1-D number tensors of equal length, an int
    ``max_length``) before NumPy sees it."""
    hub = checkpoint.get('message_hub')
    if not isinstance(hub, dict):
        return
    scalars = hub.get('log_scalars', {})
    if not isinstance(scalars, dict):
        return
    for key, value in list(scalars.items()):
        if isinstance(value, dict) and HISTORY_BUFFER_TAG in value:
            scalars[key] = _history_buffer(key, value[HISTORY_BUFFER_TAG])


def _history_buffer(key, stored) -> HistoryBuffer:
    where = f'message_hub.log_scalars[{str(key)[:80]!r}]'
    if type(stored) is not dict or set(stored) != {
            'max_length', 'log_history', 'count_history'}:
        raise ValueError(f'{where}: expected a dict of max_length, '
                         f'log_history and count_history, got '
                         f'{type(stored).__name__}')
    histories = [stored['log_history'], stored['count_history']]
    if any(type(t) is not torch.Tensor or t.dim() != 1 or t.is_complex()
           for t in histories) or len(histories[0]) != len(histories[1]):
        raise ValueError(f'{where}: expected two 1-D real tensors of equal '
                         'length')
    max_length = stored['max_length']
    if type(max_length) is not int or max_length < 1:
        raise ValueError(f'{where}: max_length must be a positive int')
    buffer = HistoryBuffer(max_length=max_length)
    # The arrays as they were (dtype included), not re-inferred.
    buffer._log_history = histories[0].numpy().copy()
    buffer._count_history = histories[1].numpy().copy()
    return buffer


def _unwrapped(model):
    return model.module if is_model_wrapper(model) else model


def partial_accumulation(runner) -> Optional[Dict]:
    """The gradients accumulated since the last optimizer step, when the
    run is between two steps of a gradient accumulation; else None."""
    wrapper = getattr(runner, 'optim_wrapper', None)
    counts = getattr(wrapper, '_accumulative_counts', 1)
    inner = getattr(wrapper, '_inner_count', 0)
    if counts <= 1 or inner % counts == 0:
        return None
    grads = {
        name: param.grad.detach().cpu().clone()
        for name, param in _unwrapped(runner.model).named_parameters()
        if param.grad is not None
    }
    return dict(inner_count=inner, accumulative_counts=counts,
                world_size=runner.world_size, grads=grads)


def restore_partial_accumulation(runner, state: Dict) -> None:
    """Put the saved partial accumulation back into the parameters'
    ``.grad`` (the next backward adds to it, as in the uninterrupted run)."""
    if type(state) is not dict or type(state.get('grads')) is not dict or \
            any(type(state.get(k)) is not int for k in (
                'world_size', 'inner_count', 'accumulative_counts')) or \
            state['accumulative_counts'] < 1:
        raise ValueError(
            f"The checkpoint's {PARTIAL_ACCUMULATION_KEY} is malformed: "
            'expected a dict of ints world_size, inner_count, '
            'accumulative_counts (>= 1) and a dict of gradient tensors')
    if state['world_size'] != 1 or runner.world_size != 1:
        print_log(
            'The checkpoint was written between two steps of a gradient '
            'accumulation in a multi-process run; only one process\'s '
            'gradients are saved, so the first step after the resume '
            'differs from the uninterrupted run.',
            logger='current', level=logging.WARNING)
        return
    params = dict(_unwrapped(runner.model).named_parameters())
    missing = sorted(set(state['grads']) - set(params))
    if missing:
        raise KeyError(
            'The checkpoint holds accumulated gradients for parameters this '
            f'model does not have: {missing[:5]}')
    for name, grad in state['grads'].items():
        param = params[name]
        if type(grad) is not torch.Tensor or grad.shape != param.shape:
            raise ValueError(
                f'{PARTIAL_ACCUMULATION_KEY}.grads[{name!r}] must be a tensor '
                f'of shape {tuple(param.shape)}, like the parameter')
        param.grad = grad.to(device=param.device, dtype=param.dtype)
    counts = state['accumulative_counts']
    print_log(
        f"Restored the gradients of {len(state['grads'])} parameters "
        f"accumulated over {state['inner_count'] % counts} of {counts} "
        'steps: the resumed run continues the accumulation exactly.',
        logger='current')
