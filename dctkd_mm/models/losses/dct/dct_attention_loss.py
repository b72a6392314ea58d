"""DCT-driven attention distillation loss (López-Cifuentes et al. 2022).

The two transforms optimise different things:

* ``'dft_real'`` (default; alias ``'reference'``): the real part of the 2-D
  DFT, ``torch.fft.fft2(x).real``, which the authors' public code
  (``Distillation Zoo/DFTOurs.py``) uses under the name "DCT". Every
  number the paper publishes comes from it.
* ``'dct'``: the orthonormal DCT-II, ``scipy.fft.dctn(x, norm='ortho')``,
  what the paper's text describes.

On ResNet-like features (ResNet-18 student and ResNet-50 teacher stage
outputs, PyTorch default initialisation, random 224 px inputs, batch 8)
the two losses' gradients with respect to the student features are far
from aligned: cosine -0.05 to 0.07 on the 56 px maps, -0.02 to 0.06
at 28 px, 0.15 to 0.30 at 14 px and 0.25 to 0.34 at 7 px over seeds 0-2
(``python -m dctkd_mm.benchmarks.transform_gradients --seeds 0 1 2``;
docs/loss.md, "The two transforms"). A run with ``'dct'`` is therefore not a
reproduction of the paper.
"""
import logging
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmrazor.registry import MODELS

from .attention import attention_map
from .gating import gating_labels
from .stage_losses import compiled_stage_losses, stage_losses
from .transforms import TRANSFORMS

Features = Union[torch.Tensor, Sequence[torch.Tensor]]

_REDUCTIONS = ('mean', 'sum', 'none')
_ON_SIZE_MISMATCH = ('warn', 'error')


def _as_list(features: Features, name: str) -> List[torch.Tensor]:
    if isinstance(features, torch.Tensor):
        return [features]
    if isinstance(features, (list, tuple)) and features and all(
            isinstance(f, torch.Tensor) for f in features):
        return list(features)
    raise TypeError(f'DCTAttentionLoss: {name} must be a (B, C, H, W) '
                    'tensor or a non-empty list/tuple of them, got '
                    f'{type(features).__name__}')


def _check_features(s_feats: List[torch.Tensor],
                    t_feats: List[torch.Tensor]) -> None:
    if len(s_feats) != len(t_feats):
        raise ValueError(
            f'DCTAttentionLoss: student gives {len(s_feats)} scales but '
            f'teacher gives {len(t_feats)}; pair them one to one.')
    batch = s_feats[0].shape[0] if s_feats[0].dim() else None
    for scale, pair in enumerate(zip(s_feats, t_feats)):
        for side, feat in zip(('student', 'teacher'), pair):
            if feat.dim() != 4:
                raise ValueError(
                    f'DCTAttentionLoss: {side} feature at scale {scale} '
                    f'must be (B, C, H, W), got shape {tuple(feat.shape)}')
            if feat.shape[0] != batch:
                raise ValueError(
                    f'DCTAttentionLoss: batch sizes differ at scale {scale}: '
                    f'{side} {tuple(feat.shape)} vs student scale 0 '
                    f'{tuple(s_feats[0].shape)}')


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

    The transform is the real part of the 2-D DFT by default (the authors'
    code); ``'dct'`` is the orthonormal DCT-II. They optimise different
    objectives: their gradients have a cosine between -0.05 and 0.34 on
    ResNet stage maps (module docstring, with the command).

    Maps are channel-agnostic, so student and teacher channel counts may
    differ. Where their spatial sizes differ, the larger attention map is
    area-resized (adaptive average pooling) to the smaller one, with a
    WARNING naming both sizes once per scale and size pair (a 2x2 student
    map against a 7x7 teacher one leaves little to distil; with
    ``on_size_mismatch='error'`` it is a ``ValueError``). The loss is
    computed in float32 whatever the autocast state. A constant map (dead
    ReLU, 1x1 map), where the authors' code divides by zero, normalises to
    zeros, so loss and gradients stay finite.

    One call takes all stages (a list per side), gates once and checks
    finiteness once: at most one host sync per call, none with
    ``check_finite=False``.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        transform (str): ``'dft_real'`` (default), ``'dct'``, or
            ``'reference'`` (alias of ``'dft_real'``).
        p (float): Exponent of the attention map ``mean_c |F|^p``.
            Defaults to 2.
        reduction (str): ``'mean'`` over the batch (default), ``'sum'``, or
            ``'none'`` for the per-sample vector (B,).
        check_finite (bool): Raise ``FloatingPointError`` naming the scale
            when a NaN/Inf feature reaches the loss, instead of taking a
            silent NaN step. Costs one host sync per call. Defaults to True.
        eps (float): Maps whose value range is below ``eps`` times their
            magnitude count as constant. Defaults to 1e-6.
        compile (bool | dict): ``torch.compile`` the computation of all
            stages as one graph (a dict is passed to ``torch.compile``).
            A new batch size recompiles once with a symbolic batch, after
            which any batch size reuses it. ``dict(mode='reduce-overhead')``
            adds CUDA graphs. Defaults to False.
        fuse_stages (bool, optional): Compute all stages as one stack
            zero-padded to the largest map (a fixed number of kernels,
            for launch-bound GPUs) instead of one stack per map size
            (fewer flops, for CPUs). Same result either way (tested).
            Defaults to None: fused on CUDA, grouped elsewhere.
        on_size_mismatch (str): ``'warn'`` (default): log a WARNING once
            per scale and size pair when the student's and teacher's maps
            differ in size, then resize; ``'error'``: raise ``ValueError``
            naming both sizes instead.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 transform: str = 'dft_real',
                 p: float = 2,
                 reduction: str = 'mean',
                 check_finite: bool = True,
                 eps: float = 1e-6,
                 compile: Union[bool, dict] = False,
                 fuse_stages: Optional[bool] = None,
                 on_size_mismatch: str = 'warn') -> None:
        super().__init__()
        if on_size_mismatch not in _ON_SIZE_MISMATCH:
            raise ValueError('DCTAttentionLoss: on_size_mismatch must be '
                             f'one of {_ON_SIZE_MISMATCH}, got '
                             f'{on_size_mismatch!r}')
        if transform not in TRANSFORMS:
            raise ValueError(f'DCTAttentionLoss: transform must be one of '
                             f'{tuple(TRANSFORMS)}, got {transform!r}')
        if reduction not in _REDUCTIONS:
            raise ValueError(f'DCTAttentionLoss: reduction must be one of '
                             f'{_REDUCTIONS}, got {reduction!r}')
        if p <= 0:
            raise ValueError(f'DCTAttentionLoss: p must be > 0, got {p}')
        if not isinstance(compile, (bool, dict)):
            raise TypeError('DCTAttentionLoss: compile must be a bool or a '
                            'dict of torch.compile arguments, got '
                            f'{type(compile).__name__}')
        self.loss_weight = loss_weight
        self.transform = transform
        self.p = p
        self.reduction = reduction
        self.check_finite = check_finite
        self.eps = eps
        self.compile = compile
        self.fuse_stages = fuse_stages
        self.on_size_mismatch = on_size_mismatch
        # (scale, student size, teacher size) already warned about.
        self._warned_sizes = set()

    def forward(self,
                s_feature: Features,
                t_feature: Features,
                t_logits: Optional[torch.Tensor] = None,
                gt_labels=None,
                return_stages: bool = False
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Compute the loss.

        Args:
            s_feature: Student features, one (B, C, H, W) tensor or a list
                with one per scale.
            t_feature: Teacher features, same number of scales.
            t_logits (Tensor, optional): Teacher logits (B, K) for gating.
            gt_labels (optional): Labels (B,) (or one-hot/soft (B, K)) as a
                tensor, or the batch's MMPretrain data samples; needed with
                ``t_logits``.
            return_stages (bool): Also return each scale's share of the
                loss, detached, shape (scales,) (or (scales, B) with
                ``reduction='none'``), for logging.
        """
        s_feats = _as_list(s_feature, 's_feature')
        t_feats = _as_list(t_feature, 't_feature')
        _check_features(s_feats, t_feats)
        self._report_size_mismatch(s_feats, t_feats)
        labels = gating_labels(t_logits, gt_labels, s_feats[0].shape[0],
                               s_feats[0].device)
        # Min-max normalisation and the transform lose too much in 16 bit.
        with torch.autocast(s_feats[0].device.type, enabled=False):
            per_stage = self._stage_losses(s_feats, t_feats)
        # A NaN/Inf feature makes its sample's loss NaN, so one check of
        # the result (one host sync) covers all scales; only then are the
        # features inspected to name the culprit.
        if self.check_finite and not bool(torch.isfinite(per_stage).all()):
            self._raise_not_finite(s_feats, t_feats)
        if labels is not None:
            correct = t_logits.detach().argmax(dim=1) == labels
            per_stage = per_stage * correct.to(per_stage.dtype)
        loss = self.loss_weight * self._reduce(per_stage.sum(dim=0))
        if not return_stages:
            return loss
        return loss, self.loss_weight * self._reduce(per_stage.detach())

    def _stage_losses(self, s_feats: List[torch.Tensor],
                      t_feats: List[torch.Tensor]) -> torch.Tensor:
        fn = stage_losses
        if self.compile:
            fn = compiled_stage_losses(
                self.compile if isinstance(self.compile, dict) else {})
        fuse = self.fuse_stages
        if fuse is None:
            fuse = s_feats[0].device.type == 'cuda'
        return fn(s_feats, t_feats, self.transform, self.p, self.eps, fuse)

    def _report_size_mismatch(self, s_feats: List[torch.Tensor],
                              t_feats: List[torch.Tensor]) -> None:
        """Warn (once per scale and sizes) or raise where the maps of a
        scale differ in size; shapes only, no host sync."""
        for scale, (s_feat, t_feat) in enumerate(zip(s_feats, t_feats)):
            s_size, t_size = tuple(s_feat.shape[-2:]), tuple(t_feat.shape[-2:])
            key = (scale, s_size, t_size)
            if s_size == t_size or key in self._warned_sizes:
                continue
            target = (min(s_size[0], t_size[0]), min(s_size[1], t_size[1]))
            message = (
                f'DCTAttentionLoss: at scale {scale} the student map is '
                f'{s_size[0]}x{s_size[1]} and the teacher map '
                f'{t_size[0]}x{t_size[1]}; both are compared at '
                f'{target[0]}x{target[1]} (area resize). Pair stages of '
                'equal size (or change the input size) if that is not '
                'intended.')
            if self.on_size_mismatch == 'error':
                raise ValueError(message + " (on_size_mismatch='error')")
            self._warned_sizes.add(key)
            print_log(message, logger='current', level=logging.WARNING)

    def _reduce(self, per_sample: torch.Tensor) -> torch.Tensor:
        """Reduce over the last (batch) dim."""
        if self.reduction == 'mean':
            return per_sample.mean(dim=-1)
        if self.reduction == 'sum':
            return per_sample.sum(dim=-1)
        return per_sample

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
