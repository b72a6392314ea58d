from .attention import attention_map, labels_from, minmax_normalise

__all__ = ['attention_map', 'minmax_normalise', 'labels_from']
