"""The per-stage, per-sample core of :class:`DCTAttentionLoss`.

Pure tensor code (no host syncs, no Python per sample), so one call covers
all stages and can be compiled as one graph. Read top-down: map alignment,
the two ways of stacking stages (padded to one size, or grouped by size),
then :func:`stage_losses`, which uses them. The transforms themselves are
in :mod:`.transforms`.
"""
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

from .attention import attention_map, minmax_scale
from .transforms import TRANSFORMS, basis_pairs, dct_2d


def align_maps(s_map: torch.Tensor, t_map: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Area-resize (adaptive average pooling) the larger of two (B, H, W)
    attention maps to the smaller one's size; equal sizes pass through."""
    s_size, t_size = s_map.shape[-2:], t_map.shape[-2:]
    if s_size == t_size:
        return s_map, t_map
    target = (min(s_size[0], t_size[0]), min(s_size[1], t_size[1]))
    if s_size != target:
        s_map = F.adaptive_avg_pool2d(s_map.unsqueeze(1), target)[:, 0]
    if t_size != target:
        t_map = F.adaptive_avg_pool2d(t_map.unsqueeze(1), target)[:, 0]
    return s_map, t_map


# (map sizes, transform, device) -> padded bases and mask; built once.
_PADDED: Dict[tuple, dict] = {}


def padded_constants(sizes: Tuple[Tuple[int, int], ...], transform: str,
                     device: torch.device) -> dict:
    """For maps of ``sizes`` zero-padded to the largest: the mask of real
    pixels (S, 1, H, W) and per term the left (S, 1, H, H) and right
    (S, 1, W, W) bases, each stage's basis in its top-left corner and
    zeros elsewhere, so ``L @ X @ R`` transforms every stage at once and
    ignores the padding."""
    kind = 'dct' if TRANSFORMS[transform] is dct_2d else 'dft_real'
    key = (sizes, kind, device)
    if key not in _PADDED:
        height = max(h for h, _ in sizes)
        width = max(w for _, w in sizes)
        terms = len(basis_pairs(1, kind))
        mask = torch.zeros(len(sizes), 1, height, width, dtype=torch.bool)
        left = torch.zeros(terms, len(sizes), 1, height, height,
                           dtype=torch.float64)
        right = torch.zeros(terms, len(sizes), 1, width, width,
                            dtype=torch.float64)
        for i, (h, w) in enumerate(sizes):
            mask[i, :, :h, :w] = True
            for term, (l_h, r_w) in enumerate(
                    zip(basis_pairs(h, kind), basis_pairs(w, kind))):
                left[term, i, 0, :h, :h] = l_h
                right[term, i, 0, :w, :w] = r_w.T if kind == 'dct' else r_w
        _PADDED[key] = dict(
            mask=mask.to(device),
            left=left.to(device, torch.float32).unbind(0),
            right=right.to(device, torch.float32).unbind(0))
    return _PADDED[key]


def _fused_distances(pairs, transform: str, eps: float) -> torch.Tensor:
    """(stages, B) distances with every stage in one padded stack."""
    sizes = tuple(tuple(s.shape[-2:]) for s, _ in pairs)
    const = padded_constants(sizes, transform, pairs[0][0].device)
    height, width = const['mask'].shape[-2:]
    maps = torch.stack([
        F.pad(torch.cat([s, t]), (0, width - s.shape[-1], 0,
                                  height - s.shape[-2]))
        for s, t in pairs
    ])  # (stages, 2B, H, W), zeros outside each stage's map
    mask = const['mask']
    centred, _ = minmax_scale(maps, eps, centre=True, mask=mask)
    coeffs = const['left'][0] @ centred @ const['right'][0]
    if len(const['left']) == 2:  # real DFT: cos x cos - sin x sin
        coeffs = coeffs - const['left'][1] @ centred @ const['right'][1]
    spec, _ = minmax_scale(coeffs, eps, mask=mask)
    s_spec, t_spec = spec.chunk(2, dim=1)
    diff = torch.where(mask, s_spec - t_spec, 0.)
    return torch.linalg.vector_norm(diff, dim=(-2, -1))


def _grouped_distances(pairs, transform: str, eps: float) -> torch.Tensor:
    """(stages, B) distances, stages of equal map size stacked."""
    spectrum = TRANSFORMS[transform]
    by_size: Dict[torch.Size, List[int]] = {}
    for stage, (s_map, _) in enumerate(pairs):
        by_size.setdefault(s_map.shape[-2:], []).append(stage)
    per_stage: List[torch.Tensor] = [None] * len(pairs)  # type: ignore
    for stages in by_size.values():
        maps = torch.stack([pairs[i][0] for i in stages] +
                           [pairs[i][1] for i in stages])
        centred, _ = minmax_scale(maps, eps, centre=True)
        coeffs, _ = minmax_scale(spectrum(centred), eps)
        s_spec, t_spec = coeffs.chunk(2)
        distance = torch.linalg.vector_norm(s_spec - t_spec, dim=(-2, -1))
        for row, stage in enumerate(stages):
            per_stage[stage] = distance[row]
    return torch.stack(per_stage)


def stage_losses(s_feats: List[torch.Tensor], t_feats: List[torch.Tensor],
                 transform: str, p: float, eps: float,
                 fuse_stages: bool = False) -> torch.Tensor:
    """Ungated loss of every stage and sample, shape (stages, B).

    Per stage and sample: attention map ``mean_c |F|^p``; min-max to
    [0, 1] minus its mean; 2-D transform; min-max to [0, 1]; L2 norm of
    the student-minus-teacher coefficients.

    Past the channel reduction the maps are small and the cost is per-op
    overhead (kernel launches on a GPU), not bytes, so the student and
    teacher maps go through the normalisations, the transform and the norm
    together: with ``fuse_stages`` all stages at once, zero-padded to the
    largest map with precomputed padded bases and masks (a fixed number of
    ops whatever the number of stages, at the price of transforming
    padding); otherwise the stages of equal map size together. Min-max
    normalising a map and subtracting its mean is ``(x - mean(x)) /
    span``: one shift and one scale. A NaN/Inf feature makes its sample's
    loss NaN (spans and means propagate it), which the caller's single
    finite check relies on.
    """
    pairs = [align_maps(attention_map(s, p), attention_map(t, p))
             for s, t in zip(s_feats, t_feats)]
    if fuse_stages:
        return _fused_distances(pairs, transform, eps)
    return _grouped_distances(pairs, transform, eps)


# Compiled versions of stage_losses, one per set of torch.compile options,
# kept off the module so the loss still deep-copies and pickles.
_COMPILED: Dict[tuple, Callable] = {}


def compiled_stage_losses(options: dict) -> Callable:
    """:func:`stage_losses` under ``torch.compile(**options)``, shared by
    every loss with the same options. Dynamo's default (``dynamic=None``)
    recompiles once with a symbolic batch size on the first new batch
    size, so a varying last batch costs one extra graph, not one each."""
    key = tuple(sorted(options.items()))
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(stage_losses, **options)
    return _COMPILED[key]
