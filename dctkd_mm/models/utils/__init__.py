# The attention helpers are part of the DCT loss (models/losses/dct/); this
# path stays for code written against the earlier layout.
from dctkd_mm.models.losses.dct.attention import (attention_map,
                                                  minmax_normalise,
                                                  minmax_scale)
from dctkd_mm.models.losses.dct.gating import labels_from

__all__ = ['attention_map', 'minmax_normalise', 'minmax_scale', 'labels_from']
