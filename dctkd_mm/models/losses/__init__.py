from .dct_attention_loss import DCTAttentionLoss

__all__ = ['DCTAttentionLoss']
