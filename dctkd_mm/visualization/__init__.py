"""Attention-map and DCT-spectrum figures for teacher/student pairs."""
from .attention_figures import attention_figures, panels_to_arrays
from .attention_panels import (PANEL_KEYS, build_panels, log_spectrum,
                               normalised_attention, render_attention_figure,
                               to_display_image)
from .stage_features import (DEFAULT_STAGES, StagePair, capture_outputs,
                             default_stage_pairs, eval_mode, forward_stages,
                             loss_transform, stage_pairs_from_distiller)

__all__ = [
    'attention_figures', 'panels_to_arrays', 'PANEL_KEYS', 'build_panels',
    'log_spectrum', 'normalised_attention', 'render_attention_figure',
    'to_display_image', 'DEFAULT_STAGES', 'StagePair', 'capture_outputs',
    'default_stage_pairs', 'eval_mode', 'forward_stages', 'loss_transform',
    'stage_pairs_from_distiller'
]
