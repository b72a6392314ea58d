from .frozen_teacher_distill import FrozenTeacherDistill

__all__ = ['FrozenTeacherDistill']
