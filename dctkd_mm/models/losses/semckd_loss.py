"""SemCKD: cross-layer distillation with semantic calibration."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from .semckd_self_attention import SemCKDSelfAttention


def _full(feats: List[torch.Tensor]) -> List[torch.Tensor]:
    return [f if f.dtype in (torch.float32, torch.float64) else f.float()
            for f in feats]


@MODELS.register_module()
class SemCKDLoss(nn.Module):
    """"Cross-Layer Distillation with Semantic Calibration" (SemCKD), Defang
    Chen et al., AAAI 2021, https://arxiv.org/abs/2012.03236.

    https://github.com/DefangChen/SemCKD (the authors of the DCT paper
    use its ``SemCKDLoss`` and ``SelfA``; re-implemented here).

    Every student stage is projected onto every teacher stage by a small
    trainable regressor, and the per-sample MSEs are weighted by a learned
    attention of student stages over teacher stages (built from the
    stages' sample-similarity matrices), so each student stage learns
    mostly from the teacher stages semantically closest to it.

    López-Cifuentes et al. compare against it as "CKD" (ALPHA = 400 on the
    stage outputs but the first and the pooled embedding: ResNet layer2,
    layer3, layer4; MobileNetV2 ``features[4:7]``, ``[7:14]``, ``[14:]``).
    Their loss, for batch B, S student and T teacher stages::

        loss = sum_{b,i,j} att[b,i,j] * mean_{c,h,w}(proj_ij - t_j)^2
               / (B * S)

    The attention and regressors (:class:`SemCKDSelfAttention`) live in
    this module, so they are trained with the student, are in the
    optimizer, in checkpoints and resume, and not in exported students.

    Kept from the authors: SelfA's MLPs are sized by the batch, so only
    batches of ``batch_size`` are accepted (a clear error otherwise; their
    script skips a short last batch, the zoo drops it). Not kept: their
    ``trainCNNs.py`` validation also runs the loss and leaves SelfA in
    ``eval()`` mode for every later training epoch (its BatchNorm then
    uses running statistics from the second epoch on); here SelfA follows
    the model's train/eval mode, as MMEngine sets it. On non-square maps
    the pooling target is the other map's (H, W), where theirs pools to
    (H, H) and fails. Computed in float32 even under AMP (float16 would
    overflow on the similarity matrices).

    Args:
        student_channels (Sequence[int]): channels of the student stages.
        teacher_channels (Sequence[int]): channels of the teacher stages.
        batch_size (int): training batch per process. The attention's MLPs
            are sized by it (see :class:`SemCKDSelfAttention`), so every
            training batch must have exactly this many samples.
        factor (int): embedding size is ``batch_size // factor``.
            Defaults to 4.
        loss_weight (float): ALPHA. Defaults to 400 (config_CKD.yaml).
    """

    def __init__(self,
                 student_channels: Sequence[int],
                 teacher_channels: Sequence[int],
                 batch_size: int,
                 factor: int = 4,
                 loss_weight: float = 400.0) -> None:
        super().__init__()
        for name, value in (('student_channels', student_channels),
                            ('teacher_channels', teacher_channels)):
            if not value or not all(
                    isinstance(c, int) and c > 0 for c in value):
                raise ValueError(f'SemCKDLoss: {name} must be a non-empty '
                                 f'list of positive ints, got {value!r}')
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError('SemCKDLoss: batch_size must be a positive '
                             f'int, got {batch_size!r}')
        self.student_channels = list(student_channels)
        self.teacher_channels = list(teacher_channels)
        self.batch_size = batch_size
        self.loss_weight = loss_weight
        self.self_attention = SemCKDSelfAttention(
            student_channels, teacher_channels, batch_size, factor)

    def _check(self, feats: List[torch.Tensor], channels: List[int],
               side: str) -> None:
        if not isinstance(feats, (list, tuple)) or not all(
                isinstance(f, torch.Tensor) for f in feats):
            raise TypeError(f'SemCKDLoss: {side} features must be a list of '
                            f'tensors (one per stage, from a recorder '
                            f'list), got {type(feats).__name__}')
        got = [tuple(f.shape) for f in feats]
        if len(feats) != len(channels) or any(
                f.dim() != 4 or f.shape[1] != c
                for f, c in zip(feats, channels)):
            raise ValueError(
                f'SemCKDLoss: {side} stage shapes {got} do not match '
                f'{side}_channels={channels} (one (B, C, H, W) feature '
                'per configured stage)')
        for f in feats:
            if f.shape[0] != self.batch_size:
                raise ValueError(
                    f'SemCKDLoss: a batch of {f.shape[0]} samples, but the '
                    f'loss was built for batch_size={self.batch_size}: '
                    "SemCKD's attention MLPs take the batch's B x B "
                    'similarity rows, so every training batch must have '
                    f'exactly {self.batch_size} samples. Set '
                    'train_dataloader.drop_last=True (the authors skip a '
                    'smaller last batch) and set the loss batch_size to '
                    'train_dataloader.batch_size (per process).')

    def forward(self, s_feature: List[torch.Tensor],
                t_feature: List[torch.Tensor]) -> torch.Tensor:
        """ALPHA times the attention-weighted MSE, from the student's and
        the teacher's stage features (lists, in stage order)."""
        self._check(s_feature, self.student_channels, 'student')
        self._check(t_feature, self.teacher_channels, 'teacher')
        # Always in full precision: the B x B similarities sum ~10^5
        # squared activations per entry (layer4), past float16's range,
        # and AMP (AutocastOptimWrapper) would run those matmuls in it.
        with torch.autocast(s_feature[0].device.type, enabled=False):
            projected, targets, attention = self.self_attention(
                _full(s_feature), _full(t_feature))
        batch, num_s, _ = attention.shape
        per_pair = torch.stack([
            torch.stack([(p - t).pow(2).flatten(1).mean(1)
                         for p, t in zip(p_row, t_row)], 1)
            for p_row, t_row in zip(projected, targets)], 1)  # (B, S, T)
        loss = (attention * per_pair).sum() / (batch * num_s)
        return self.loss_weight * loss
