"""Build a model whose every weight a checkpoint is about to replace,
without drawing a random initialisation first.

A frozen teacher is built from its config and then loaded strictly from
its checkpoint. Its random initialisation is thrown away, yet it costs
time (a few hundred milliseconds for a ResNet-50 on one CPU core) and
uses up random numbers: the student built after it drew other numbers
than the same student built alone under the same seed.

Inside :class:`RandomFillsZeroed` every random fill of a tensor
(``Tensor.uniform_``, ``normal_``, ..., and the ``nn.init`` initialisers
that PyTorch dispatches as one call) writes zeros instead, so no memory
is ever left unwritten, and records the storage it wrote.
:func:`build_then_load` builds under it, loads, and keeps the model only
if each recorded storage belongs to a tensor of the model's state dict,
all of which the strict load has just overwritten. Otherwise (a
non-persistent buffer drawn at random, or a temporary such as
``orthogonal_``'s) it builds and loads the model again as usual.
"""
from typing import Any, Callable, List

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

#: Tensor methods that draw random numbers into the tensor.
_TENSOR_FILLS = frozenset(
    getattr(torch.Tensor, name)
    for name in ('uniform_', 'normal_', 'bernoulli_', 'random_', 'cauchy_',
                 'exponential_', 'geometric_', 'log_normal_'))
#: ``nn.init`` functions that PyTorch dispatches whole (their own random
#: fill inside then runs outside the mode).
_INIT_FILLS = frozenset(
    (nn.init.uniform_, nn.init.normal_, nn.init.kaiming_uniform_))


class RandomFillsZeroed(TorchFunctionMode):
    """Random fills write zeros; ``filled`` holds the storages written."""

    def __init__(self) -> None:
        super().__init__()
        # The storages themselves: kept alive, no address is reused.
        self.filled: List[torch.UntypedStorage] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _TENSOR_FILLS or func in _INIT_FILLS:
            tensor = args[0] if args else kwargs['tensor']
            with torch.no_grad():
                tensor.zero_()
            self.filled.append(tensor.untyped_storage())
            return tensor
        return func(*args, **kwargs)


def build_then_load(build: Callable[[], nn.Module],
                    load: Callable[[nn.Module], Any]) -> nn.Module:
    """``build()`` a model and ``load`` a checkpoint into it strictly,
    skipping the random initialisation the load replaces (see the module
    docstring); ``load`` must fill every tensor of the state dict or
    raise."""
    fills = RandomFillsZeroed()
    with fills:
        model = build()
    load(model)
    loaded = {
        t.untyped_storage().data_ptr()
        for t in model.state_dict(keep_vars=True).values()
        if isinstance(t, torch.Tensor)
    }
    if all(s.nbytes() == 0 or s.data_ptr() in loaded for s in fills.filled):
        return model
    model = build()
    load(model)
    return model
