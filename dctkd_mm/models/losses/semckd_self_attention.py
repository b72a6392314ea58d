"""SemCKD's cross-layer attention ("SelfA") and its per-pair regressors.

Chen et al., Cross-Layer Distillation with Semantic Calibration (AAAI
2021), as López-Cifuentes et al. run it (their ``Distillation Zoo/
selfAT.py``). Used by :class:`SemCKDLoss`, which owns it, so its weights
train with the student, are saved and resumed with the distiller, and are
not part of an exported student.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class SimilarityEmbed(nn.Module):
    """Two-layer MLP with ReLU, L2-normalised output: embeds one row of a
    stage's B x B sample-similarity matrix as a query or a key."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, 2 * out_features)
        self.fc2 = nn.Linear(2 * out_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc2(F.relu(self.fc1(x)))
        # F.normalize clamps the norm at 1e-12; the authors divide by the
        # raw norm. Equal (values and gradients) unless a row is all zero.
        return F.normalize(x, p=2, dim=1)


def regressor(in_channels: int, out_channels: int) -> nn.Sequential:
    """Student stage -> teacher stage projection: 1x1, 3x3, 1x1 convs with
    a hidden width of twice the teacher's channels (BN + ReLU between)."""
    mid = 2 * out_channels
    return nn.Sequential(
        nn.Conv2d(in_channels, mid, 1, bias=False), nn.BatchNorm2d(mid),
        nn.ReLU(inplace=True),
        nn.Conv2d(mid, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid),
        nn.ReLU(inplace=True),
        nn.Conv2d(mid, out_channels, 1, bias=False))


def _similarity(feature: torch.Tensor) -> torch.Tensor:
    flat = feature.reshape(feature.shape[0], -1)
    return flat @ flat.t()


class SemCKDSelfAttention(nn.Module):
    """Attention of every student stage over every teacher stage, and the
    student features projected onto each teacher stage.

    Batch-size quirk, kept from the authors' code: the query and key MLPs
    take a row of the B x B similarity matrix, so their first layer has
    ``batch_size`` inputs and the module only accepts batches of exactly
    that size (the authors skip a smaller last batch; the zoo's configs
    set ``drop_last=True``, which is the same thing).

    Args:
        student_channels: channels of the student stages, in order.
        teacher_channels: channels of the teacher stages, in order.
        batch_size: the only batch size the module accepts.
        factor: the embeddings have ``batch_size // factor`` dimensions.
    """

    def __init__(self, student_channels: Sequence[int],
                 teacher_channels: Sequence[int], batch_size: int,
                 factor: int = 4) -> None:
        super().__init__()
        dim = batch_size // factor
        if dim < 1:
            raise ValueError(
                f'SemCKDSelfAttention: batch_size {batch_size} // factor '
                f'{factor} is 0; the embeddings need batch_size >= factor.')
        self.batch_size = batch_size
        # Created keys, then queries, then regressors (the authors' order),
        # so that one seed gives both implementations the same weights.
        self.key_embeds = nn.ModuleList(
            SimilarityEmbed(batch_size, dim) for _ in teacher_channels)
        self.query_embeds = nn.ModuleList(
            SimilarityEmbed(batch_size, dim) for _ in student_channels)
        self.regressors = nn.ModuleList(
            nn.ModuleList(regressor(s_c, t_c) for t_c in teacher_channels)
            for s_c in student_channels)

    def forward(self, s_feats: List[torch.Tensor], t_feats: List[torch.Tensor]
                ) -> Tuple[List[List[torch.Tensor]],
                           List[List[torch.Tensor]], torch.Tensor]:
        """Returns ``(projected, targets, attention)``: for student stage i
        and teacher stage j, ``projected[i][j]`` and ``targets[i][j]`` of
        equal shape, and ``attention`` (B, S, T), softmax over j."""
        queries = torch.stack([
            embed(_similarity(f))
            for embed, f in zip(self.query_embeds, s_feats)], 1)
        keys = torch.stack([
            embed(_similarity(f))
            for embed, f in zip(self.key_embeds, t_feats)], 2)
        attention = torch.softmax(torch.bmm(queries, keys), dim=-1)
        projected, targets = [], []
        for i, s_feat in enumerate(s_feats):
            projected.append([])
            targets.append([])
            for j, t_feat in enumerate(t_feats):
                s_feat_ij, t_feat_ij = s_feat, t_feat
                # The larger map is area-pooled to the smaller one; which
                # side is chosen by height alone, as the authors do (on
                # their square maps this is the same as by size).
                if s_feat.shape[2] > t_feat.shape[2]:
                    s_feat_ij = F.adaptive_avg_pool2d(s_feat,
                                                      t_feat.shape[2:])
                else:
                    t_feat_ij = F.adaptive_avg_pool2d(t_feat,
                                                      s_feat.shape[2:])
                projected[i].append(self.regressors[i][j](s_feat_ij))
                targets[i].append(t_feat_ij)
        return projected, targets, attention
