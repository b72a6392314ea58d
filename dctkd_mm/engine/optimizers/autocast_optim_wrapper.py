from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Mixed precision by autocast alone, for devices MMEngine's
    ``AmpOptimWrapper`` refuses (it asserts a CUDA/NPU/MLU/MUSA device).

    bfloat16 has float32's exponent range, so unlike float16 it needs no
    loss scaling: this is what ``tools/train.py --amp`` uses on a CPU.

    Args:
        dtype (str | torch.dtype): Autocast dtype. Defaults to bfloat16.
        device_type (str, optional): Autocast device. Defaults to the
            device of the first parameter, resolved at the first step.
        **kwargs: Passed to ``OptimWrapper``.
    """

    def __init__(self, dtype='bfloat16', device_type=None, **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype,
                                                              str) else dtype
        if self.cast_dtype not in (torch.bfloat16, torch.float16):
            raise ValueError('AutocastOptimWrapper: dtype must be bfloat16 '
                             f'or float16, got {dtype}')
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model):
            device_type = self.device_type or next(
                model.parameters()).device.type
            with torch.autocast(device_type=device_type,
                                dtype=self.cast_dtype):
                yield
