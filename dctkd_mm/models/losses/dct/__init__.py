"""The DCT-driven attention distillation loss, in reading order: attention
maps (:mod:`.attention`), the 2-D transforms (:mod:`.transforms`), the
per-stage core (:mod:`.stage_losses`), teacher-correct gating
(:mod:`.gating`) and the loss module (:mod:`.dct_attention_loss`)."""
from .attention import attention_map, minmax_normalise, minmax_scale
from .dct_attention_loss import DCTAttentionLoss
from .gating import labels_from
from .transforms import TRANSFORMS, dct_2d, dct_matrix, dft_real, idct_2d

__all__ = [
    'DCTAttentionLoss', 'TRANSFORMS', 'attention_map', 'dct_2d', 'dct_matrix',
    'dft_real', 'idct_2d', 'labels_from', 'minmax_normalise', 'minmax_scale'
]
