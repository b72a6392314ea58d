from .attention import (attention_map, labels_from, minmax_normalise,
                        minmax_scale)

__all__ = ['attention_map', 'minmax_normalise', 'minmax_scale', 'labels_from']
