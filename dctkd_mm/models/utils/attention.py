"""Attention-map helpers shared by the loss, connectors and visualisers."""
import torch


def attention_map(feature: torch.Tensor, p: float = 2) -> torch.Tensor:
    """Spatial attention ``mean_c |F|^p`` of a (B, C, H, W) feature, float32.

    ``vector_norm`` reduces over channels in one pass, without the
    full-size ``|F|^p`` temporary that ``feature.abs().pow(p).mean(1)``
    allocates; for the 2048-channel maps of a ResNet-50 that temporary is
    the largest cost of the loss.
    """
    channels = feature.shape[1]
    norm = torch.linalg.vector_norm(
        feature, ord=p, dim=1, dtype=torch.float32)
    return norm.pow(p) / channels


def minmax_normalise(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Min-max normalise each map over its last two dims to [0, 1].

    A map whose range is below ``eps`` times its largest magnitude is
    constant up to rounding: it maps to zeros, with zero gradient, where a
    plain division would give NaN (or amplified rounding noise).
    """
    low = x.amin(dim=(-2, -1), keepdim=True)
    high = x.amax(dim=(-2, -1), keepdim=True)
    span = high - low
    scale = torch.maximum(high.abs(), low.abs())
    valid = span > eps * scale + torch.finfo(x.dtype).tiny
    safe_span = torch.where(valid, span, torch.ones_like(span))
    return torch.where(valid, (x - low) / safe_span, torch.zeros_like(x))


def labels_from(gt_labels, device: torch.device) -> torch.Tensor:
    """Class indices (B,) from a label tensor or MMPretrain data samples."""
    if isinstance(gt_labels, torch.Tensor):
        labels = gt_labels
    elif isinstance(gt_labels, (list, tuple)) and all(
            hasattr(s, 'gt_label') for s in gt_labels):
        labels = torch.cat([s.gt_label.reshape(-1)[:1] for s in gt_labels])
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
