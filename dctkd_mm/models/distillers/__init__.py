from .recorder_list_distiller import RecorderListDistiller

__all__ = ['RecorderListDistiller']
