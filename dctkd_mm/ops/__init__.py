from .dct import dct_2d, dct_matrix, idct_2d

__all__ = ['dct_2d', 'idct_2d', 'dct_matrix']
