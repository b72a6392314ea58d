"""Attention maps and their min-max normalisation: the first steps of
:class:`DCTAttentionLoss`, shared with the attention connector and the
visualisers so they draw exactly what the loss compares."""
import torch


def attention_map(feature: torch.Tensor, p: float = 2) -> torch.Tensor:
    """Spatial attention ``mean_c |F|^p`` of a (B, C, H, W) feature, float32.

    Never materialises the full-size ``|F|^p`` that
    ``feature.abs().pow(p).mean(1)`` allocates; for the 2048-channel maps
    of a ResNet-50 that temporary is the largest cost of the loss. On a
    GPU ``vector_norm`` reduces over channels in one kernel; on a CPU see
    :func:`_chunked_power_sum`.
    """
    channels = feature.shape[1]
    if feature.device.type == 'cpu':
        return _chunked_power_sum(feature, p) / channels
    norm = torch.linalg.vector_norm(
        feature, ord=p, dim=1, dtype=torch.float32)
    return norm.pow(p) / channels


# Channels per chunk are chosen so a chunk's float32 |F|^p is about this
# size: small enough to stay in cache (and in malloc's reusable heap).
_CPU_CHUNK_BYTES = 1 << 20


def _chunked_power_sum(feature: torch.Tensor, p: float) -> torch.Tensor:
    """``sum_c |F|^p`` in float32 on a CPU, a block of channels at a time.

    PyTorch's CPU norm kernel walks the strided channel dim one element at
    a time; vectorised elementwise ops and ``sum`` over cache-sized blocks
    are 3-6x faster on ResNet stage shapes (docs/benchmarks.md).
    """
    per_channel = feature[:, :1].numel() * 4
    step = max(1, _CPU_CHUNK_BYTES // max(1, per_channel))
    total = None
    for chunk in feature.split(step, dim=1):
        chunk = chunk.float()  # no copy when already float32
        power = chunk.square() if p == 2 else chunk.abs().pow(p)
        part = power.sum(dim=1)
        total = part if total is None else total + part
    return total


def minmax_scale(x: torch.Tensor, eps: float = 1e-6, centre: bool = False,
                 mask: torch.Tensor = None):
    """Min-max normalise each (H, W) map of ``x`` to [0, 1] in a few ops.

    A map whose range is below ``eps`` times its largest magnitude is
    constant up to rounding: it becomes zeros, with zero gradient, where a
    plain division would give NaN (or amplified rounding noise). With
    ``centre`` the map's mean is subtracted instead of its minimum, giving
    the normalised map minus its mean. With a boolean ``mask``
    (broadcastable to ``x``) only the masked pixels count, for maps
    zero-padded to a common size; the padding (which must be zeros for
    ``centre``) comes out shifted and scaled like the rest, for the caller
    to ignore. Returns the result and the spans ``max - min``.
    """
    low_in, high_in = x, x
    if mask is not None:
        low_in = torch.where(mask, x, torch.inf)
        high_in = torch.where(mask, x, -torch.inf)
    # Not torch.aminmax: PyTorch 2.11 has no derivative for it.
    low = low_in.amin(dim=(-2, -1), keepdim=True)
    high = high_in.amax(dim=(-2, -1), keepdim=True)
    span = high - low
    with torch.no_grad():
        valid = span > eps * torch.maximum(high, -low)
    # 1/inf = 0 zeroes constant maps; the gradient through it is 0 too,
    # where dividing by a zero span would give NaN.
    inv_span = torch.where(valid, span, torch.inf).reciprocal()
    if not centre:
        shift = low
    elif mask is None:
        shift = x.mean(dim=(-2, -1), keepdim=True)
    else:
        shift = x.sum(dim=(-2, -1), keepdim=True) / mask.sum(
            dim=(-2, -1), keepdim=True)
    return (x - shift) * inv_span, span


def minmax_normalise(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Min-max normalise each map over its last two dims to [0, 1] (see
    :func:`minmax_scale`)."""
    return minmax_scale(x, eps)[0]
