from .fast_teacher import TeacherFastConfig
from .frozen_teacher_distill import FrozenTeacherDistill

__all__ = ['FrozenTeacherDistill', 'TeacherFastConfig']
