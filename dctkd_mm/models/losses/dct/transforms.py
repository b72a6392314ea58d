"""The 2-D frequency transforms of :class:`DCTAttentionLoss`, the one place
they are defined.

* ``'dft_real'`` (alias ``'reference'``): the real part of the 2-D DFT,
  the transform of the authors' code.
* ``'dct'``: the orthonormal DCT-II, ``C_H @ X @ C_W^T`` with ``C_N`` the
  DCT-II matrix, the same as ``scipy.fft.dctn(x, norm='ortho')`` over the
  last two axes. Cost is ``O(B * H * W * (H + W))``, which for the map
  sizes of a CNN (at most a few hundred pixels a side) beats an FFT-based
  DCT on both CPU and GPU and stays differentiable with no custom backward.

:func:`basis_pairs` writes either transform as matrix products, for the
loss's path that transforms maps of several sizes zero-padded into one
stack.
"""
import math
from typing import Callable, Dict, List, Tuple

import torch

__all__ = [
    'dct_matrix', 'dct_2d', 'idct_2d', 'dft_real', 'TRANSFORMS',
    'basis_pairs'
]

_BASIS_CACHE: Dict[Tuple[int, torch.device, torch.dtype], torch.Tensor] = {}


def dct_matrix(n: int,
               device: torch.device = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``n x n`` orthonormal DCT-II matrix, cached per device and dtype.

    Row ``k`` holds ``s_k * cos(pi * (2i + 1) * k / (2n))`` with
    ``s_0 = sqrt(1/n)`` and ``s_k = sqrt(2/n)`` otherwise.
    """
    if n < 1:
        raise ValueError(f'dct_matrix needs n >= 1, got {n}')
    device = torch.device('cpu') if device is None else torch.device(device)
    key = (n, device, dtype)
    basis = _BASIS_CACHE.get(key)
    if basis is None:
        # Built in float64 so low-precision caches are correctly rounded.
        i = torch.arange(n, dtype=torch.float64)
        k = i.view(-1, 1)
        basis = torch.cos(math.pi * (2 * i + 1) * k / (2 * n))
        basis[0] *= math.sqrt(1.0 / n)
        basis[1:] *= math.sqrt(2.0 / n)
        basis = basis.to(device=device, dtype=dtype)
        _BASIS_CACHE[key] = basis
    return basis


def _check_input(x: torch.Tensor, name: str) -> None:
    if x.dim() < 2:
        raise ValueError(f'{name} expects a tensor with at least 2 dims '
                         f'(..., H, W), got shape {tuple(x.shape)}')
    if not x.is_floating_point():
        raise TypeError(f'{name} expects a floating point tensor, '
                        f'got {x.dtype}')


def dct_2d(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal 2-D DCT-II over the last two dims of ``x``."""
    _check_input(x, 'dct_2d')
    h, w = x.shape[-2:]
    c_h = dct_matrix(h, x.device, x.dtype)
    c_w = dct_matrix(w, x.device, x.dtype)
    return c_h @ x @ c_w.transpose(0, 1)


def idct_2d(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`dct_2d` (orthonormal DCT-III)."""
    _check_input(x, 'idct_2d')
    h, w = x.shape[-2:]
    c_h = dct_matrix(h, x.device, x.dtype)
    c_w = dct_matrix(w, x.device, x.dtype)
    return c_h.transpose(0, 1) @ x @ c_w


def dft_real(maps: torch.Tensor) -> torch.Tensor:
    """Real part of the 2-D DFT over the last two dims: the authors'
    transform (``torch.fft.fft2(x).real`` in their ``DFTOurs.py``)."""
    return torch.fft.fft2(maps).real


# Config name -> transform. 'reference' is the historical name of the
# authors' transform, kept so older configs keep their meaning.
TRANSFORMS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    'dft_real': dft_real,
    'reference': dft_real,
    'dct': dct_2d,
}


def basis_pairs(n: int, transform: str) -> List[torch.Tensor]:
    """Matrices ``M_k`` (n x n, float64) with ``T(x) = sum_k +-L_k x R_k``
    for the transform named ``transform``: the DCT-II is ``C x C^T``; the
    real part of the DFT of a real map is ``cos x cos - sin x sin`` (both
    symmetric)."""
    if TRANSFORMS[transform] is dct_2d:
        return [dct_matrix(n, dtype=torch.float64)]
    k = torch.arange(n, dtype=torch.float64)
    angle = 2 * math.pi * torch.outer(k, k) / n
    return [torch.cos(angle), torch.sin(angle)]
