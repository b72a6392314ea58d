"""Fast forward pass for a frozen teacher, switched on from the config.

A frozen teacher only has to produce the features the recorders pick up;
it needs no autograd state, and it can run in lower precision and in the
memory format its convolutions like best. :class:`TeacherFastConfig` holds
those options (``model.teacher_fast`` of a ``FrozenTeacherDistill``
config) and applies them: once to the teacher module, and around each
teacher forward.

Two constraints shape the code:

* Tensors created under ``torch.inference_mode`` cannot be saved for
  backward. A trainable teacher-side connector (``ResidualFeatureAdapter``)
  or a loss that saves its target (``F.mse_loss``) would fail on them, so
  after the forward every recorded tensor is handed on as an ordinary
  tensor (:func:`as_normal_tensor`, no copy).
* Features recorded under autocast are float16/bfloat16. Connectors with
  float32 weights and most losses expect float32, so by default they are
  cast back (``feature_dtype='float32'``); ``feature_dtype=None`` keeps
  them as they are, which is cheaper for a loss that reads low precision
  itself, such as ``DCTAttentionLoss``.
"""
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from typing import Any, Optional, Union

import torch
import torch.nn as nn

__all__ = ['TeacherFastConfig', 'as_normal_tensor']

_DTYPES = {
    None: None,
    'float32': torch.float32,
    'bfloat16': torch.bfloat16,
    'float16': torch.float16,
}


def _dtype(name: Optional[str], option: str, allowed) -> torch.dtype:
    if name not in allowed:
        raise ValueError(f'teacher_fast.{option} must be one of '
                         f'{list(allowed)}, got {name!r}')
    return _DTYPES[name]


@dataclass(frozen=True)
class TeacherFastConfig:
    """Options for the frozen teacher's forward pass (all off by default).

    Args:
        inference_mode (bool): Run the teacher under
            ``torch.inference_mode()`` instead of ``torch.no_grad()``: no
            version counters or view tracking. Recorded tensors are then
            turned into ordinary tensors so autograd may save them.
        channels_last (bool): Convert the teacher's weights once, and its
            input each step, to ``torch.channels_last``. Convolutions on
            tensor cores (float16/bfloat16 on a GPU) run faster in it.
        autocast_dtype (str, optional): ``'bfloat16'`` or ``'float16'`` to
            run the teacher forward, and only it, under ``torch.autocast``.
        feature_dtype (str, optional): Dtype that recorded floating-point
            teacher outputs produced under ``autocast_dtype`` are cast to:
            ``'float32'`` (default, safe for any connector or loss) or
            ``None`` to keep them in the autocast dtype.
        compile (bool | dict): ``torch.compile`` the teacher's backbone
            (where nearly all its FLOPs are) in place, so parameter names,
            checkpoints and recorder hooks stay as they are; a dict is
            passed to ``torch.compile`` (e.g. ``dict(mode='max-autotune')``).
    """

    inference_mode: bool = False
    channels_last: bool = False
    autocast_dtype: Optional[str] = None
    feature_dtype: Optional[str] = 'float32'
    compile: Union[bool, dict] = False

    def __post_init__(self) -> None:
        _dtype(self.autocast_dtype, 'autocast_dtype',
               (None, 'bfloat16', 'float16'))
        _dtype(self.feature_dtype, 'feature_dtype', (None, 'float32'))
        if not isinstance(self.compile, (bool, dict)):
            raise TypeError('teacher_fast.compile must be a bool or a dict '
                            'of torch.compile arguments, got '
                            f'{type(self.compile).__name__}')

    @classmethod
    def build(cls, cfg: Union[None, dict, 'TeacherFastConfig']
              ) -> 'TeacherFastConfig':
        """From ``None``, a config dict or an instance; unknown keys are an
        error (a typo would otherwise silently keep the slow path)."""
        if cfg is None:
            return cls()
        if isinstance(cfg, cls):
            return cfg
        if not isinstance(cfg, dict):
            raise TypeError('teacher_fast must be a dict, got '
                            f'{type(cfg).__name__}')
        known = {f.name for f in fields(cls)}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f'teacher_fast: unknown option(s) '
                             f'{sorted(unknown)}; known: {sorted(known)}')
        return cls(**cfg)

    @property
    def enabled(self) -> bool:
        return (self.inference_mode or self.channels_last
                or self.autocast_dtype is not None or bool(self.compile))

    def prepare_teacher(self, teacher: nn.Module) -> None:
        """One-off changes to the teacher module (memory format, compile).

        Both act in place: ``nn.Module.to`` and copies into parameters
        (checkpoint loading, ``.cuda()``) keep the channels-last strides,
        and ``nn.Module.compile`` keeps parameter names.
        """
        if self.channels_last:
            teacher.to(memory_format=torch.channels_last)
        if self.compile:
            kwargs = self.compile if isinstance(self.compile, dict) else {}
            target = getattr(teacher, 'backbone', teacher)
            target.compile(**kwargs)

    def prepare_inputs(self, inputs: Any) -> Any:
        if (self.channels_last and isinstance(inputs, torch.Tensor)
                and inputs.dim() == 4):
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    @contextmanager
    def forward_context(self, device_type: str):
        """No autograd (``no_grad`` or ``inference_mode``) plus, if asked,
        autocast. Without ``autocast_dtype`` an enclosing autocast (an AMP
        optimizer wrapper) still applies, as for the plain teacher."""
        with ExitStack() as stack:
            stack.enter_context(torch.inference_mode()
                                if self.inference_mode else torch.no_grad())
            if self.autocast_dtype is not None:
                stack.enter_context(
                    torch.autocast(device_type,
                                   dtype=_DTYPES[self.autocast_dtype]))
            yield

    def release(self, distiller: nn.Module) -> None:
        """Make what the teacher forward recorded usable by the losses.

        Replaces, in the teacher recorders' buffers and the deliveries'
        queues, inference tensors by ordinary ones and (with
        ``feature_dtype``) autocast outputs by float32 copies.
        """
        if not (self.inference_mode or self.autocast_dtype is not None):
            return
        cast = (_DTYPES[self.feature_dtype]
                if self.autocast_dtype is not None else None)
        recorders = getattr(distiller, 'teacher_recorders', None)
        for recorder in getattr(recorders, 'recorders', {}).values():
            buffer = recorder.data_buffer
            for i, record in enumerate(buffer):
                buffer[i] = _usable(record, cast)
        deliveries = getattr(distiller, 'deliveries', None)
        for delivery in getattr(deliveries, 'deliveries', {}).values():
            queue = delivery.data_queue
            for i, record in enumerate(queue):
                queue[i] = _usable(record, cast)


def as_normal_tensor(tensor: torch.Tensor) -> torch.Tensor:
    """An ordinary tensor sharing ``tensor``'s memory (no copy).

    An inference tensor has no version counter, which is why autograd
    refuses to save it; this alias gets a fresh one. That is sound here
    because nothing writes to the teacher's recorded outputs after its
    forward, the same assumption the plain ``no_grad`` teacher relies on.
    """
    if not tensor.is_inference():
        return tensor
    alias = torch.empty(0, dtype=tensor.dtype, device=tensor.device)
    return alias.set_(tensor.untyped_storage(), tensor.storage_offset(),
                      tensor.size(), tensor.stride())


_REDUCED = (torch.float16, torch.bfloat16)


def _usable(record: Any, cast: Optional[torch.dtype]) -> Any:
    if isinstance(record, torch.Tensor):
        if cast is not None and record.dtype in _REDUCED:
            return record.to(cast)  # a new, ordinary tensor
        return as_normal_tensor(record)
    if isinstance(record, list):
        return [_usable(r, cast) for r in record]
    if isinstance(record, tuple) and not hasattr(record, '_fields'):
        return tuple(_usable(r, cast) for r in record)
    if isinstance(record, dict):
        return {k: _usable(v, cast) for k, v in record.items()}
    return record
