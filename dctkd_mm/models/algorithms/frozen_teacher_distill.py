import os.path as osp
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from .distill_config_checks import (check_recorders_recorded,
                                    checked_distiller)
from .fast_teacher import TeacherFastConfig


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` for a frozen, pre-trained teacher.

    MMRazor loads ``teacher_ckpt`` non-strictly: a checkpoint for another
    number of classes or another architecture only logs a warning and
    distillation then runs against a partly random teacher. Here the
    teacher checkpoint must match the teacher exactly; otherwise a
    ``RuntimeError`` names the file and lists the missing, unexpected and
    mis-shaped keys.

    The teacher forward can be made cheaper from the config with
    ``teacher_fast`` (see :class:`TeacherFastConfig` and
    docs/benchmarks.md), e.g.::

        model = dict(teacher_fast=dict(inference_mode=True,
                                       channels_last=True,
                                       autocast_dtype='bfloat16'))

    Args:
        teacher_ckpt (str, optional): Teacher checkpoint, loaded strictly.
        teacher_fast (dict, optional): Options for the teacher forward:
            ``inference_mode``, ``channels_last``, ``autocast_dtype``,
            ``feature_dtype``, ``compile``. All off by default, which is
            exactly ``SingleTeacherDistill``'s ``no_grad`` forward.
        sync_student_bn (bool): Replace the BatchNorm layers of the student
            (``architecture``) and of the distiller's connectors with
            ``torch.nn.SyncBatchNorm``; the frozen teacher keeps its
            BatchNorm (eval mode, running statistics). ``tools/train.py``
            sets it for a multi-GPU run (docs/training.md, "From one GPU to
            a cluster"). Defaults to False.
        **kwargs: Everything else ``SingleTeacherDistill`` takes.
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_fast: Optional[dict] = None,
                 sync_student_bn: bool = False,
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable', False):
            raise ValueError('FrozenTeacherDistill keeps the teacher frozen; '
                             'use SingleTeacherDistill for a trainable one.')
        # Built and loaded before the distiller hooks its recorders, so a
        # subclass may change the loaded teacher (AdaptiveTeacherDistill
        # replaces blocks) and the recorders see the changed one.
        teacher = self.build_teacher(teacher, teacher_ckpt)
        if sync_student_bn:
            # Converted before the distiller hooks its recorders on the
            # student's modules (conversion replaces BN modules).
            student = kwargs.get('architecture')
            if isinstance(student, dict):
                student = MODELS.build(student)
            kwargs['architecture'] = convert_sync_batchnorm(student)
        # Names and recorder sources checked with clear errors (MMRazor
        # asserts, or skips some checks).
        with checked_distiller(self, distiller):
            super().__init__(distiller, teacher, teacher_ckpt=None, **kwargs)
        if sync_student_bn:  # trainable connectors (adapters) too
            self.distiller = convert_sync_batchnorm(self.distiller)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_fast = TeacherFastConfig.build(teacher_fast)
        self.teacher_fast.prepare_teacher(self.teacher)

    @staticmethod
    def build_teacher(teacher: Union[BaseModel, Dict],
                      teacher_ckpt: Optional[str]) -> BaseModel:
        """The teacher model, built from its config if needed, with
        ``teacher_ckpt`` loaded strictly."""
        if isinstance(teacher, dict):
            teacher = MODELS.build(teacher)
        if teacher_ckpt:
            load_teacher_checkpoint(teacher, teacher_ckpt)
            # Keep init_weights() from overwriting the loaded weights.
            teacher._is_init = True
        return teacher

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> dict:
        """``SingleTeacherDistill.loss`` (MMRazor 1.0.0) with the frozen
        teacher's forward in :meth:`teacher_forward`; recorders, deliveries
        and the student side behave as there."""
        losses = dict()
        # The teacher records (and deliveries store) its data ...
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            teacher_losses = self.teacher_forward(batch_inputs, data_samples)
        if teacher_losses:
            losses.update(add_prefix(teacher_losses, 'teacher'))
        # ... which the student's forward then reads / is overridden with.
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            elif self.student_trainable:
                self.student(batch_inputs, data_samples, mode='loss')
            else:
                with torch.no_grad():
                    self.student(batch_inputs, data_samples, mode='loss')
        if not self.distillation_stopped:
            if not getattr(self, '_recorders_checked', False):
                check_recorders_recorded(self.distiller)  # names the culprit
                self._recorders_checked = True
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(),
                           'distill'))
        return losses

    def teacher_forward(self, batch_inputs: torch.Tensor,
                        data_samples: Optional[List[BaseDataElement]]
                        ) -> Optional[dict]:
        """Run the frozen teacher so its recorders fill, as configured by
        ``teacher_fast``, then make what they recorded usable by the
        losses (ordinary float32 tensors unless configured otherwise).

        Returns the teacher's own losses to optimise (logged as
        ``teacher.*``); a frozen teacher has none.
        """
        fast = self.teacher_fast
        inputs = fast.prepare_inputs(batch_inputs)
        with fast.forward_context(inputs.device.type):
            self.teacher(inputs, data_samples, mode='loss')
        fast.release(self.distiller)
        return None


def convert_sync_batchnorm(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with every BatchNorm layer a ``torch.nn.SyncBatchNorm``
    (same parameters and buffers; PyTorch's conversion)."""
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)


def load_teacher_checkpoint(teacher, filename: str) -> dict:
    """Load ``filename`` into ``teacher`` strictly, with an error that says
    what does not match."""
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(
            f'teacher_ckpt {filename!r} does not exist. Set '
            '`model.teacher_ckpt` to a checkpoint of the teacher: for the '
            "Places365 configs, convert CSAIL's public ResNet-50 "
            '(docs/zoo.md, "The flagship in three commands"); otherwise '
            "train the teacher's config in configs/teachers/.")
    try:
        return load_checkpoint(teacher, filename, map_location='cpu',
                               strict=True)
    except RuntimeError as exc:
        raise RuntimeError(
            f'teacher_ckpt {filename!r} does not match the teacher model '
            f'({type(teacher).__name__}); a partly loaded teacher would '
            f'distil noise. {exc}') from exc
