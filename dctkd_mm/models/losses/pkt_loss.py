"""Probabilistic knowledge transfer (PKT) as the authors of the DCT paper
run it (their ``Distillation Zoo/PKT.py``, taken from RepDistiller)."""
import torch
import torch.nn as nn
from mmrazor.registry import MODELS


def _check_embedding(name: str, feature) -> None:
    if not isinstance(feature, torch.Tensor) or feature.dim() != 2:
        shape = tuple(getattr(feature, 'shape', ()))
        raise ValueError(
            f'PKTLoss: {name} must be a (B, C) embedding (the pooled, '
            f'flattened features; map a neck with data_idx=0), got '
            f'{type(feature).__name__} of shape {shape}')


def _cosine_affinity(feature: torch.Tensor, eps: float) -> torch.Tensor:
    """Row-normalised (B, B) affinities ``(cos + 1) / 2``."""
    unit = feature / (feature.pow(2).sum(1, keepdim=True).sqrt() + eps)
    # Their code zeroes NaNs in place (``x[x != x] = 0``): a NaN/Inf
    # embedding becomes a zero vector, cosine 0, instead of a NaN loss.
    # Kept as they run it; it hides a diverged feature from the loss.
    unit = torch.where(torch.isnan(unit), torch.zeros_like(unit), unit)
    affinity = (unit @ unit.t() + 1.0) / 2.0
    return affinity / affinity.sum(1, keepdim=True)


@MODELS.register_module()
class PKTLoss(nn.Module):
    """"Learning Deep Representations with Probabilistic Knowledge
    Transfer", Passalis & Tefas, ECCV 2018
    https://arxiv.org/abs/1803.10837.

    https://github.com/passalis/probabilistic_kt

    The student's and teacher's (B, C) embeddings give, per sample, a
    distribution over the batch from their cosine similarities (rescaled
    to [0, 1], each row summed to 1); the loss is the teacher-to-student
    KL divergence of those distributions. As in the DCT paper's code
    (López-Cifuentes et al. 2022, ``Distillation Zoo/PKT.py``):

    - the KL terms are averaged over all B x B entries, not summed per row
      and averaged over rows, which is why their weight is 30000;
    - ``eps`` is added to each norm and inside the log ratio
      ``log((p_t + eps) / (p_s + eps))``;
    - NaNs after normalisation are zeroed (see :func:`_cosine_affinity`).

    Gradients flow into both arguments; the teacher's comes from a frozen
    network, so only the student's is used.

    Args:
        loss_weight (float): Weight of loss (their ALPHA). Defaults to 1.0.
        eps (float): Their constant. Defaults to 1e-7.
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1e-7) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f'PKTLoss: eps must be > 0, got {eps}')
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        """Forward function for PKTLoss.

        Args:
            s_feature (torch.Tensor): Student embedding, (B, C_s).
            t_feature (torch.Tensor): Teacher embedding, (B, C_t); the
                channel counts may differ, only the (B, B) affinities are
                compared.
        """
        _check_embedding('s_feature', s_feature)
        _check_embedding('t_feature', t_feature)
        if s_feature.shape[0] != t_feature.shape[0]:
            raise ValueError(
                'PKTLoss: student and teacher batch sizes differ: '
                f'{tuple(s_feature.shape)} vs {tuple(t_feature.shape)}')
        # eps = 1e-7 and B x B affinities near 1/B lose their meaning in
        # 16 bit (the authors ran float32): float32 whatever the autocast.
        with torch.autocast(s_feature.device.type, enabled=False):
            p_s = _cosine_affinity(s_feature.float(), self.eps)
            p_t = _cosine_affinity(t_feature.float(), self.eps)
            loss = (p_t * torch.log(
                (p_t + self.eps) / (p_s + self.eps))).mean()
        return self.loss_weight * loss
