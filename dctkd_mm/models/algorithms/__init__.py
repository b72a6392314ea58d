from .adaptive_blocks import AdaptiveModuleConfig
from .adaptive_teacher_distill import AdaptiveTeacherDistill
from .fast_teacher import TeacherFastConfig
from .frozen_teacher_distill import FrozenTeacherDistill

__all__ = [
    'AdaptiveModuleConfig', 'AdaptiveTeacherDistill', 'FrozenTeacherDistill',
    'TeacherFastConfig'
]
