"""Helpers behind the command-line tools."""
from .student_export import (build_student, export_student, student_config,
                             student_state_dict)

__all__ = [
    'export_student', 'student_config', 'student_state_dict', 'build_student'
]
