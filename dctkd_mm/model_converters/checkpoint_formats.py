"""Recognise the checkpoint files a torchvision-layout model comes in and
unwrap them to a plain ``{name: tensor}`` state dict.

Three formats are recognised, by their top-level keys:

- ``csail``: CSAIL's Places365 models (``resnet50_places365.pth.tar``): a
  dict with ``state_dict`` (keys prefixed ``module.`` by DataParallel)
  beside ``epoch``/``arch``/``best_prec1``; saved as legacy (non-zip)
  pickles by PyTorch 0.x, so BatchNorm has no ``num_batches_tracked``.
- ``authors``: López-Cifuentes et al.'s ``<ARCH>_<DATASET>_best.pth.tar``:
  ``model_state_dict`` beside ``CONFIG``, ``optimizer_state_dict``, metrics
  and a numpy ``model_parameters``.
- ``torchvision``: a bare state dict as torchvision's model zoo publishes.

Anything else is refused with its unexpected keys named.
"""
from typing import Dict, Mapping, Tuple

import torch

from ..compat.describe import describe

# Top-level keys each wrapped format may carry beside its weights.
CSAIL_KEYS = frozenset({'state_dict', 'epoch', 'arch', 'best_prec1',
                        'optimizer'})
AUTHORS_KEYS = frozenset({
    'model_state_dict', 'CONFIG', 'epoch', 'optimizer_state_dict',
    'best_loss_train', 'best_loss_val', 'best_prec_train', 'best_prec_val',
    'time_per_epoch', 'model_parameters'
})


class UnrecognisedCheckpointError(ValueError):
    """The file is readable but not a format this converter knows."""


def _is_tensor_dict(obj) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items())


def _strip_module_prefix(state_dict: Mapping[str, torch.Tensor]):
    """Drop DataParallel's ``module.`` prefix when every key has it."""
    if all(k.startswith('module.') for k in state_dict):
        return {k[len('module.'):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def unwrap_checkpoint(obj, source: str) -> Tuple[Dict[str, torch.Tensor],
                                                  str]:
    """Return ``(state_dict, format_name)`` for a loaded checkpoint ``obj``
    read from ``source`` (named in errors)."""
    if not isinstance(obj, Mapping):
        raise UnrecognisedCheckpointError(
            f'{source}: expected a dict (a state dict or a checkpoint '
            f'holding one), found a {type(obj).__name__}.')
    keys = set(obj)
    if 'model_state_dict' in keys:
        fmt, inner, allowed = 'authors', obj['model_state_dict'], AUTHORS_KEYS
    elif 'state_dict' in keys:
        fmt, inner, allowed = 'csail', obj['state_dict'], CSAIL_KEYS
    elif _is_tensor_dict(obj):
        return _strip_module_prefix(obj), 'torchvision'
    else:
        raise UnrecognisedCheckpointError(
            f'{source}: unrecognised checkpoint format; top-level keys '
            f'{_shown(keys)}. Expected a torchvision state '
            "dict, CSAIL's Places365 checkpoint ('state_dict', 'epoch', "
            "'arch', ...) or the authors' ('model_state_dict', 'CONFIG', "
            "...).")
    if isinstance(inner, Mapping) and any(
            str(k).startswith(('backbone.', 'head.', 'architecture.'))
            for k in inner):
        raise UnrecognisedCheckpointError(
            f'{source}: its keys (e.g. {describe(next(iter(inner)))}) are '
            'already in MMPretrain/MMRazor layout; nothing to convert.')
    unexpected = keys - allowed
    if unexpected:
        raise UnrecognisedCheckpointError(
            f'{source}: looks like a {fmt} checkpoint but has unexpected '
            f'top-level keys {_shown(unexpected)}; expected only '
            f'{sorted(allowed)}.')
    if not _is_tensor_dict(inner):
        raise UnrecognisedCheckpointError(
            f'{source}: the {fmt} checkpoint\'s weights are not a dict of '
            'tensors.')
    return _strip_module_prefix(inner), fmt


def _shown(keys, most: int = 12) -> str:
    """Keys read from a file, for a message: each bounded, at most ``most``."""
    shown = [describe(k) for k in sorted(keys, key=str)[:most]]
    more = f' and {len(keys) - most} more' if len(keys) > most else ''
    return '[' + ', '.join(shown) + ']' + more
