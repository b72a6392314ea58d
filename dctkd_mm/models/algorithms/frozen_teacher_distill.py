import os.path as osp
from typing import Dict, Optional, Union

from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` for a frozen, pre-trained teacher.

    MMRazor loads ``teacher_ckpt`` non-strictly: a checkpoint for another
    number of classes or another architecture only logs a warning and
    distillation then runs against a partly random teacher. Here the
    teacher checkpoint must match the teacher exactly; otherwise a
    ``RuntimeError`` names the file and lists the missing, unexpected and
    mis-shaped keys.

    Args:
        teacher_ckpt (str, optional): Teacher checkpoint, loaded strictly.
        **kwargs: Everything else ``SingleTeacherDistill`` takes.
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable', False):
            raise ValueError('FrozenTeacherDistill keeps the teacher frozen; '
                             'use SingleTeacherDistill for a trainable one.')
        super().__init__(distiller, teacher, teacher_ckpt=None, **kwargs)
        self.teacher_ckpt = teacher_ckpt
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt)
            # Keep init_weights() from overwriting the loaded weights.
            self.teacher._is_init = True


def load_teacher_checkpoint(teacher, filename: str) -> dict:
    """Load ``filename`` into ``teacher`` strictly, with an error that says
    what does not match."""
    if '://' not in filename and not osp.isfile(filename):
        raise FileNotFoundError(
            f'teacher_ckpt {filename!r} does not exist. Set '
            '`model.teacher_ckpt` to a checkpoint of the teacher '
            '(e.g. one written by training its config in configs/teachers).')
    try:
        return load_checkpoint(teacher, filename, map_location='cpu',
                               strict=True)
    except RuntimeError as exc:
        raise RuntimeError(
            f'teacher_ckpt {filename!r} does not match the teacher model '
            f'({type(teacher).__name__}); a partly loaded teacher would '
            f'distil noise. {exc}') from exc
