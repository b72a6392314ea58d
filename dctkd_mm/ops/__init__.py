# The transforms live with the loss that uses them; this path stays for
# code written against the earlier layout (docs/loss.md shows the new one).
from dctkd_mm.models.losses.dct.transforms import dct_2d, dct_matrix, idct_2d

__all__ = ['dct_2d', 'idct_2d', 'dct_matrix']
