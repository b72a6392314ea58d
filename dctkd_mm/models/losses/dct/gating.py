"""Labels for the loss's teacher-correct gating (the authors' "PRED_GUIDE"):
samples the teacher misclassifies contribute nothing."""
from typing import Optional

import torch


def labels_from(gt_labels, device: torch.device) -> torch.Tensor:
    """Class indices (B,) from a label tensor or MMPretrain data samples."""
    if isinstance(gt_labels, torch.Tensor):
        labels = gt_labels
    elif isinstance(gt_labels, (list, tuple)) and all(
            hasattr(s, 'gt_label') for s in gt_labels):
        labels = [s.gt_label for s in gt_labels]
        # Single-label samples hold (1,) tensors: one cat, no per-sample
        # ops (those cost ~2 ms of host time per call at batch 128).
        if not all(label.shape == (1, ) for label in labels):
            labels = [label.reshape(-1)[:1] for label in labels]
        labels = torch.cat(labels)
    else:
        raise TypeError(
            'gt_labels must be a (B,) tensor of class indices or a list of '
            f'data samples with `gt_label`, got {type(gt_labels).__name__}')
    if labels.dim() == 2:  # one-hot or soft scores (e.g. after Mixup)
        labels = labels.argmax(dim=1)
    if labels.dim() != 1:
        raise ValueError(
            f'gt_labels must be (B,) class indices, got shape '
            f'{tuple(labels.shape)}')
    return labels.to(device=device, dtype=torch.long)


def gating_labels(t_logits: Optional[torch.Tensor], gt_labels, batch: int,
                  device: torch.device) -> Optional[torch.Tensor]:
    """Checked (B,) labels for teacher-correct gating, or None."""
    if (t_logits is None) != (gt_labels is None):
        raise ValueError('DCTAttentionLoss: teacher-correct gating needs '
                         'both t_logits and gt_labels; got only one.')
    if t_logits is None:
        return None
    if not isinstance(t_logits, torch.Tensor) or t_logits.dim() != 2 \
            or t_logits.shape[0] != batch:
        shape = tuple(getattr(t_logits, 'shape', ()))
        raise ValueError(
            f'DCTAttentionLoss: t_logits must be teacher logits of shape '
            f'(B, num_classes) with B={batch}, got {shape or t_logits!r}')
    labels = labels_from(gt_labels, device)
    if labels.shape[0] != batch:
        raise ValueError(
            f'DCTAttentionLoss: {labels.shape[0]} labels for a batch of '
            f'{batch} samples.')
    return labels
