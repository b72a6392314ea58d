from contextlib import nullcontext
from typing import Any, ContextManager, Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmrazor.registry import MODELS

from .adaptive_blocks import AdaptiveModuleConfig, replace_blocks
from .fast_teacher import TeacherFastConfig
from .frozen_teacher_distill import FrozenTeacherDistill


@MODELS.register_module()
class AdaptiveTeacherDistill(FrozenTeacherDistill):
    """Distillation from a frozen teacher some of whose blocks are replaced
    by a trainable activation-map adaptive module.

    Our reading of Wu et al., *Activation Map Adaptation for Effective
    Knowledge Distillation* (2020), from its abstract only (no method
    section or code could be found; docs/adaptive_module.md lists every
    choice made here). Not a verified reproduction.

    * ``adaptive_module.blocks`` names teacher blocks; each is replaced by
      a trainable copy (:func:`replace_blocks`) starting from its weights
      or from scratch. The rest of the teacher stays frozen with BatchNorm
      in eval mode; the module's BatchNorm trains.
    * Every step the teacher runs on the batch in ``mode='loss'``: its
      classification loss through the frozen remainder, times
      ``teacher_loss_weight`` (``teacher.loss``), keeps the adapted
      features meaningful for the task. Only the module has trainable
      parameters on that path.
    * The distiller's recorders and losses see the adapted teacher: the
      hidden-layer outputs that supervise the student and the logits used
      for teacher-correct gating. With ``distill_grad=False`` the recorded
      teacher outputs are detached, so the distillation losses train the
      student only.
    * The module's parameters sit in the teacher at the replaced blocks'
      names (``teacher.<block>.*``): the optimizer, checkpoints and resume
      include them; ``tools/model_converters/export_student.py`` drops
      them with the teacher.

    Args:
        distiller (dict): The distiller config.
        teacher (dict | BaseModel): The teacher.
        adaptive_module (dict): See :class:`AdaptiveModuleConfig`.
        teacher_ckpt (str, optional): Teacher checkpoint, loaded strictly
            before the blocks are replaced.
        teacher_fast (dict, optional): Must be empty: its options (no
            autograd, lower precision) do not fit a teacher that trains.
        **kwargs: Everything else ``FrozenTeacherDistill`` takes.
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 adaptive_module: Union[dict, AdaptiveModuleConfig],
                 teacher_ckpt: Optional[str] = None,
                 teacher_fast: Optional[dict] = None,
                 **kwargs) -> None:
        adaptive = AdaptiveModuleConfig.build(adaptive_module)
        if TeacherFastConfig.build(teacher_fast).enabled:
            raise ValueError(
                'AdaptiveTeacherDistill: teacher_fast options are not '
                'supported; the adapted teacher needs autograd (and full '
                'precision) through its module and frozen remainder.')
        teacher = self.build_teacher(teacher, teacher_ckpt)
        replace_blocks(teacher, adaptive.blocks, adaptive.init)
        super().__init__(distiller, teacher, teacher_ckpt=None, **kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.adaptive = adaptive
        # The module trains, so MMRazor's loss must take its trainable-
        # teacher path: the forward with autograd, its losses kept.
        self.teacher_trainable = True
        # SingleTeacherDistill froze every teacher parameter.
        for module in self.adaptive_modules().values():
            for param in module.parameters():
                param.requires_grad = True

    def adaptive_modules(self) -> Dict[str, nn.Module]:
        """``{block name: module}`` of the teacher's replaced blocks."""
        return {name: self.teacher.get_submodule(name)
                for name in self.adaptive.blocks}

    def train(self, mode: bool = True) -> None:
        """The teacher's BatchNorm stays in eval mode (frozen statistics);
        the module trains like the student."""
        super().train(mode)
        for module in self.adaptive_modules().values():
            module.train(mode)

    def teacher_context(self, inputs: Any) -> ContextManager:
        """Autograd on (frozen parameters need no gradient, so the graph
        starts at the first module); MMRazor's trainable-teacher path
        already runs the teacher so."""
        return nullcontext()

    def teacher_outputs(self, outputs: Dict[str, torch.Tensor]) -> dict:
        """The teacher's losses for MMRazor to log and optimise as
        ``teacher.*``: the weighted classification loss, and its unweighted
        value under ``ce``."""
        if not self.adaptive.distill_grad:
            detach_teacher_records(self.distiller)
        weight = self.adaptive.teacher_loss_weight
        out = {}
        for name, value in outputs.items():
            if 'loss' not in name:
                continue
            # The unweighted value, for reading the teacher's fit in logs
            # (no 'loss' in the key: MMEngine does not add it).
            out[name.replace('loss', 'ce')] = value.detach()
            if weight > 0:
                out[name] = weight * value
        return out


def detach_teacher_records(distiller: nn.Module) -> None:
    """Detach what the teacher recorders and deliveries hold, in place, so
    no loss computed from them sends gradient into the teacher."""
    recorders = getattr(distiller, 'teacher_recorders', None)
    for recorder in getattr(recorders, 'recorders', {}).values():
        buffer = recorder.data_buffer
        for i, record in enumerate(buffer):
            buffer[i] = _detached(record)
    deliveries = getattr(distiller, 'deliveries', None)
    for delivery in getattr(deliveries, 'deliveries', {}).values():
        queue = delivery.data_queue
        for i, record in enumerate(queue):
            queue[i] = _detached(record)


def _detached(record: Any) -> Any:
    if isinstance(record, torch.Tensor):
        return record.detach()
    if isinstance(record, list):
        return [_detached(r) for r in record]
    if isinstance(record, tuple) and not hasattr(record, '_fields'):
        return tuple(_detached(r) for r in record)
    if isinstance(record, dict):
        return {k: _detached(v) for k, v in record.items()}
    return record
