import os.path as osp
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, ContextManager, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS

from ..utils.checkpoint_build import build_then_load
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
        self._recorders_checked = False

    @staticmethod
    def build_teacher(teacher: Union[BaseModel, Dict],
                      teacher_ckpt: Optional[str]) -> BaseModel:
        """The teacher model, built from its config if needed, with
        ``teacher_ckpt`` loaded strictly. Built from a config and loaded,
        it draws no random initialisation (``build_then_load``): the
        student built next draws what it draws when built alone under the
        same seed."""
        if teacher_ckpt:
            def load(model):
                load_teacher_checkpoint(model, teacher_ckpt)

            if isinstance(teacher, dict):
                config = teacher
                teacher = build_then_load(lambda: MODELS.build(config), load)
            else:
                load(teacher)
            # Keep init_weights() from overwriting the loaded weights.
            teacher._is_init = True
        elif isinstance(teacher, dict):
            teacher = MODELS.build(teacher)
        return teacher

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> dict:
        """``SingleTeacherDistill.loss`` (MMRazor), whose call of the teacher
        runs as :meth:`prepare_teacher_inputs`, :meth:`teacher_context` and
        :meth:`teacher_outputs` say."""
        with ExitStack() as stack:
            stack.enter_context(_around_forward(
                self.teacher, self.prepare_teacher_inputs,
                self.teacher_context, self.teacher_outputs))
            if not self._recorders_checked:
                # MMRazor computes the losses right after the student's
                # forward, and a recorder that recorded nothing fails there
                # naming none; checked once, between the two.
                stack.callback(self.student.register_forward_hook(
                    self._check_recorders).remove)
            return super().loss(batch_inputs, data_samples)

    def _check_recorders(self, *_) -> None:
        if not self.distillation_stopped:
            check_recorders_recorded(self.distiller)  # names the culprit
            self._recorders_checked = True

    def teacher_context(self, inputs: Any) -> ContextManager:
        """The context of the teacher's forward: ``teacher_fast``'s
        (``no_grad`` or ``inference_mode``, autocast if asked)."""
        device = inputs.device.type if isinstance(inputs, torch.Tensor) \
            else 'cpu'
        return self.teacher_fast.forward_context(device)

    def prepare_teacher_inputs(self, inputs: Any) -> Any:
        """The batch as the teacher gets it (channels-last if asked)."""
        return self.teacher_fast.prepare_inputs(inputs)

    def teacher_outputs(self, outputs: Any) -> Any:
        """What the teacher's forward returns to MMRazor's ``loss``, after
        what its recorders hold was made usable by the losses (ordinary
        float32 tensors unless configured otherwise). MMRazor drops the
        losses of a frozen teacher."""
        self.teacher_fast.release(self.distiller)
        return outputs


@contextmanager
def _around_forward(module: nn.Module, inputs: Callable[[Any], Any],
                    context: Callable[[Any], ContextManager],
                    outputs: Callable[[Any], Any]):
    """For the duration of the block, each forward of ``module`` gets its
    first argument as ``inputs(arg)``, runs inside ``context(arg)``, and
    returns ``outputs(result)``. Forward hooks, as MMRazor's recorders use,
    so the forward itself and the hooks inside it are untouched."""
    stacks = []

    def before(_, args, kwargs):
        if args:
            args = (inputs(args[0]), ) + tuple(args[1:])
        stack = ExitStack()
        stack.enter_context(context(args[0] if args else None))
        stacks.append(stack)
        return args, kwargs

    def after(_, __, result):
        stacks.pop().close()
        # None: the forward raised (this hook is always called).
        return None if result is None else outputs(result)

    handles = [
        module.register_forward_pre_hook(before, with_kwargs=True),
        module.register_forward_hook(after, always_call=True)
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


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
