from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS

from dctkd_mm.models.utils import attention_map, labels_from, minmax_scale
from dctkd_mm.ops import dct_matrix

Features = Union[torch.Tensor, Sequence[torch.Tensor]]

_TRANSFORMS = ('dct', 'reference')
_REDUCTIONS = ('mean', 'sum', 'none')


def _as_list(features: Features, name: str) -> List[torch.Tensor]:
    if isinstance(features, torch.Tensor):
        return [features]
    if isinstance(features, (list, tuple)) and all(
            isinstance(f, torch.Tensor) for f in features):
        return list(features)
    raise TypeError(f'{name} must be a tensor (B, C, H, W) or a list/tuple '
                    f'of them, got {type(features).__name__}')


def _scale_loss(s_feat: torch.Tensor, t_feat: torch.Tensor,
                bases: Optional[Tuple[torch.Tensor, torch.Tensor]],
                p: float, eps: float) -> torch.Tensor:
    """Per-sample loss (B,) of one scale; pure, so it can be compiled.

    ``bases`` are the DCT matrices ``(C_H, C_W)`` of the aligned map size,
    or ``None`` for the FFT-based reference transform.

    Past the channel reduction the maps are small and the cost is per-op
    overhead (kernel launches on a GPU), not bytes: student and teacher
    maps go through together, one op instead of two. Min-max normalising a
    map and subtracting its mean is ``(x - mean(x)) / span``, one shift and
    one scale. A NaN/Inf in either map makes the sample's loss NaN (spans
    and means propagate it), which the finite check relies on.
    """
    s_map, t_map = DCTAttentionLoss._align(attention_map(s_feat, p),
                                           attention_map(t_feat, p))
    centred, _ = minmax_scale(torch.cat([s_map, t_map]), eps, centre=True)
    if bases is None:
        coeffs = torch.fft.fft2(centred).real
    else:
        c_h, c_w = bases
        coeffs = c_h @ centred @ c_w.transpose(0, 1)
    s_spec, t_spec = minmax_scale(coeffs, eps)[0].chunk(2)
    return torch.linalg.vector_norm(s_spec - t_spec, dim=(-2, -1))


# Compiled versions of _scale_loss, one per set of torch.compile options,
# kept off the module so the loss still deep-copies and pickles.
_COMPILED: Dict[tuple, object] = {}


def _compiled_scale_loss(options: dict):
    key = tuple(sorted(options.items()))
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(_scale_loss, **options)
    return _COMPILED[key]


@MODELS.register_module()
class DCTAttentionLoss(nn.Module):
    """DCT-driven attention distillation loss.

    "Attention-based Knowledge Distillation in Multi-attention Tasks: The
    Impact of a DCT-driven Loss", López-Cifuentes et al., IEEE TCSVT 2022,
    https://arxiv.org/abs/2205.01997.

    For each scale and sample: the attention map is the channel mean of
    ``|F|^p``, min-max normalised to [0, 1]; its mean is subtracted; a 2-D
    transform gives frequency coefficients, min-max normalised to [0, 1];
    the loss is the L2 norm (not squared) of the student-minus-teacher
    difference of those coefficients. Scales are summed per sample. With
    ``t_logits`` and ``gt_labels`` given, samples the teacher misclassifies
    contribute zero (the authors' "PRED_GUIDE" default), and the batch mean
    still divides by the full batch size, as in the authors' code.

    Maps are channel-agnostic, so student and teacher channel counts may
    differ. Where their spatial sizes differ, the larger attention map is
    area-resized (adaptive average pooling) to the smaller one. The loss is
    computed in float32 whatever the autocast state. A constant map (dead
    ReLU, 1x1 map), where the authors' code divides by zero, normalises to
    zeros, so loss and gradients stay finite.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        transform (str): ``'dct'`` for the orthonormal DCT-II (default), or
            ``'reference'`` for the real part of the 2-D FFT, which the
            authors' public code uses under the name DCT.
        p (float): Exponent of the attention map ``mean_c |F|^p``.
            Defaults to 2.
        reduction (str): ``'mean'`` over the batch (default), ``'sum'``, or
            ``'none'`` for the per-sample vector (B,).
        check_finite (bool): Raise ``FloatingPointError`` naming the scale
            when a NaN/Inf feature reaches the loss, instead of taking a
            silent NaN step. Costs one host sync per call. Defaults to True.
        eps (float): Maps whose value range is below ``eps`` times their
            magnitude count as constant. Defaults to 1e-6.
        compile (bool | dict): ``torch.compile`` the per-scale computation.
            Eagerly, each scale runs ~100 small kernels (forward and
            backward), so on a GPU the loss is bound by launch overhead;
            compiled they fuse into a few. A dict is passed to
            ``torch.compile``. All scales share one compiled function, so
            from the second scale on its shapes are dynamic (two graphs in
            all, instead of one per scale and batch size that would soon
            reach Dynamo's recompile limit). Defaults to False.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 transform: str = 'dct',
                 p: float = 2,
                 reduction: str = 'mean',
                 check_finite: bool = True,
                 eps: float = 1e-6,
                 compile: Union[bool, dict] = False) -> None:
        super().__init__()
        if transform not in _TRANSFORMS:
            raise ValueError(f'DCTAttentionLoss: transform must be one of '
                             f'{_TRANSFORMS}, got {transform!r}')
        if reduction not in _REDUCTIONS:
            raise ValueError(f'DCTAttentionLoss: reduction must be one of '
                             f'{_REDUCTIONS}, got {reduction!r}')
        if p <= 0:
            raise ValueError(f'DCTAttentionLoss: p must be > 0, got {p}')
        self.loss_weight = loss_weight
        self.transform = transform
        self.p = p
        self.reduction = reduction
        self.check_finite = check_finite
        self.eps = eps
        if not isinstance(compile, (bool, dict)):
            raise TypeError('DCTAttentionLoss: compile must be a bool or a '
                            'dict of torch.compile arguments, got '
                            f'{type(compile).__name__}')
        self.compile = compile

    def forward(self,
                s_feature: Features,
                t_feature: Features,
                t_logits: Optional[torch.Tensor] = None,
                gt_labels=None) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feature: Student features, one (B, C, H, W) tensor or a list
                with one per scale.
            t_feature: Teacher features, same number of scales.
            t_logits (Tensor, optional): Teacher logits (B, K) for gating.
            gt_labels (optional): Labels (B,) as a tensor, or the batch's
                MMPretrain data samples; needed with ``t_logits``.
        """
        s_feats = _as_list(s_feature, 's_feature')
        t_feats = _as_list(t_feature, 't_feature')
        if len(s_feats) != len(t_feats):
            raise ValueError(
                f'DCTAttentionLoss: student gives {len(s_feats)} scales but '
                f'teacher gives {len(t_feats)}; pair them one to one.')
        # Min-max normalisation and the transform lose too much in 16 bit.
        with torch.autocast(s_feats[0].device.type, enabled=False):
            per_sample = self.per_sample_loss(s_feats, t_feats)
        if (t_logits is None) != (gt_labels is None):
            raise ValueError('DCTAttentionLoss: teacher-correct gating needs '
                             'both t_logits and gt_labels; got only one.')
        if t_logits is not None:
            labels = labels_from(gt_labels, per_sample.device)
            if labels.shape[0] != per_sample.shape[0]:
                raise ValueError(
                    f'DCTAttentionLoss: {labels.shape[0]} labels for a '
                    f'batch of {per_sample.shape[0]} samples.')
            correct = t_logits.detach().argmax(dim=1) == labels
            per_sample = per_sample * correct.to(per_sample.dtype)
        if self.reduction == 'mean':
            loss = per_sample.mean()
        elif self.reduction == 'sum':
            loss = per_sample.sum()
        else:
            loss = per_sample
        return self.loss_weight * loss

    def per_sample_loss(self, s_feats: List[torch.Tensor],
                        t_feats: List[torch.Tensor]) -> torch.Tensor:
        """Per-sample loss (B,) summed over scales, before gating."""
        scale_loss = _scale_loss
        if self.compile:
            scale_loss = _compiled_scale_loss(
                self.compile if isinstance(self.compile, dict) else {})
        total = 0.
        for scale, (s_feat, t_feat) in enumerate(zip(s_feats, t_feats)):
            self._check_pair(scale, s_feat, t_feat)
            total = total + scale_loss(s_feat, t_feat,
                                       self._bases(s_feat, t_feat), self.p,
                                       self.eps)
        # Non-finite features make the loss NaN, so one check of the
        # result (one host sync) covers all scales; only then are the
        # features inspected to name the culprit.
        if self.check_finite and not bool(torch.isfinite(total).all()):
            self._raise_not_finite(s_feats, t_feats)
        return total

    def _bases(self, s_feat: torch.Tensor, t_feat: torch.Tensor):
        """Cached DCT matrices for the aligned map size (None: FFT)."""
        if self.transform != 'dct':
            return None
        h = min(s_feat.shape[-2], t_feat.shape[-2])
        w = min(s_feat.shape[-1], t_feat.shape[-1])
        return (dct_matrix(h, s_feat.device), dct_matrix(w, s_feat.device))

    @staticmethod
    def _align(s_map: torch.Tensor, t_map: torch.Tensor):
        s_size, t_size = s_map.shape[-2:], t_map.shape[-2:]
        if s_size == t_size:
            return s_map, t_map
        target = (min(s_size[0], t_size[0]), min(s_size[1], t_size[1]))
        if s_size != target:
            s_map = F.adaptive_avg_pool2d(s_map.unsqueeze(1), target)[:, 0]
        if t_size != target:
            t_map = F.adaptive_avg_pool2d(t_map.unsqueeze(1), target)[:, 0]
        return s_map, t_map

    @staticmethod
    def _check_pair(scale: int, s_feat: torch.Tensor,
                    t_feat: torch.Tensor) -> None:
        for name, feat in (('student', s_feat), ('teacher', t_feat)):
            if feat.dim() != 4:
                raise ValueError(
                    f'DCTAttentionLoss: {name} feature at scale {scale} must '
                    f'be (B, C, H, W), got shape {tuple(feat.shape)}')
        if s_feat.shape[0] != t_feat.shape[0]:
            raise ValueError(
                f'DCTAttentionLoss: batch sizes differ at scale {scale}: '
                f'student {tuple(s_feat.shape)} vs teacher '
                f'{tuple(t_feat.shape)}')

    def _raise_not_finite(self, s_feats: List[torch.Tensor],
                          t_feats: List[torch.Tensor]) -> None:
        bad = [f'scale {scale} ({side})'
               for scale, pair in enumerate(zip(s_feats, t_feats))
               for side, feat in zip(('student', 'teacher'), pair)
               if not bool(attention_map(feat.detach(), self.p).isfinite()
                           .all())]
        if not bad:
            raise FloatingPointError(
                'DCTAttentionLoss: the loss is NaN/Inf although every '
                'feature is finite; please report this with the inputs.')
        raise FloatingPointError(
            'DCTAttentionLoss: NaN or Inf in the features at ' +
            ', '.join(bad) + '. The model diverged upstream of the loss; '
            'lower the learning rate or check the inputs.')
