"""Panels of teacher/student attention maps and their spectra.

The figures follow López-Cifuentes et al. 2022 (Figs. 1 and 5): for each
recorded scale, the teacher's and the student's spatial attention maps
side by side, and under the same scale their 2-D frequency coefficients in
the transform the loss uses (``'dft_real'``, the authors', by default;
``'dct'`` for the orthonormal DCT-II), which is what the loss compares. :func:`build_panels` turns features into
plain arrays (so tests and the hook can check exactly what is drawn);
:func:`render_attention_figure` draws one image's panels into an RGB array.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from dctkd_mm.models.losses.dct import (TRANSFORMS, DCTAttentionLoss,
                                        attention_map, minmax_normalise)

#: Keys of one scale's panel dict, in drawing order after the input.
PANEL_KEYS = ('teacher_attention', 'student_attention', 'teacher_spectrum',
              'student_spectrum')
_COLUMN_TITLES = ('Input', 'Teacher attention', 'Student attention',
                  'Teacher spectrum', 'Student spectrum')


def normalised_attention(feature: torch.Tensor, p: float = 2) -> torch.Tensor:
    """Attention maps (B, H, W) of a (B, C, H, W) feature, min-max
    normalised to [0, 1] as the loss normalises them."""
    if feature.dim() != 4:
        raise ValueError('normalised_attention expects (B, C, H, W), got '
                         f'shape {tuple(feature.shape)}')
    return minmax_normalise(attention_map(feature.detach().float(), p))


def log_spectrum(attention: torch.Tensor,
                 transform: str = 'dft_real') -> torch.Tensor:
    """``log(1 + |T(A - mean A)|)`` of normalised attention maps, ``T``
    the loss's ``transform`` (see :class:`DCTAttentionLoss`).

    The mean is removed first, as in the loss: the DC coefficient would
    otherwise dwarf every other one and flatten the colour scale.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f'log_spectrum: unknown transform {transform!r}; '
                         f'expected one of {sorted(TRANSFORMS)}')
    centred = attention - attention.mean(dim=(-2, -1), keepdim=True)
    return torch.log1p(TRANSFORMS[transform](centred).abs())


def build_panels(teacher_feats: Sequence[torch.Tensor],
                 student_feats: Sequence[torch.Tensor],
                 p: float = 2,
                 transform: str = 'dft_real'
                 ) -> List[List[Dict[str, np.ndarray]]]:
    """Panel arrays for a batch, indexed ``[sample][scale]``.

    Each entry holds the :data:`PANEL_KEYS` arrays (float32, H x W at the
    scale's own resolution) and ``dct_distance``, the per-sample value
    :class:`DCTAttentionLoss` with ``transform`` gives that scale (before
    teacher gating); the spectra are in the same transform.
    """
    if len(teacher_feats) != len(student_feats):
        raise ValueError(f'{len(teacher_feats)} teacher scales but '
                         f'{len(student_feats)} student scales')
    loss = DCTAttentionLoss(p=p, transform=transform, reduction='none',
                            check_finite=False)
    per_scale = []
    for t_feat, s_feat in zip(teacher_feats, student_feats):
        t_att = normalised_attention(t_feat, p)
        s_att = normalised_attention(s_feat, p)
        with torch.no_grad():
            distance = loss([s_feat.detach().float()],
                            [t_feat.detach().float()])
        per_scale.append(
            dict(teacher_attention=t_att, student_attention=s_att,
                 teacher_spectrum=log_spectrum(t_att, transform),
                 student_spectrum=log_spectrum(s_att, transform),
                 dct_distance=distance))
    batch = teacher_feats[0].shape[0] if teacher_feats else 0
    return [[{key: _to_numpy(value[i]) for key, value in scale.items()}
             for scale in per_scale] for i in range(batch)]


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().float().numpy()


def to_display_image(inputs: torch.Tensor, bgr: bool = True) -> np.ndarray:
    """An (H, W, 3) uint8 RGB image from a packed (3, H, W) input tensor.

    MMCV's ``LoadImageFromFile`` loads BGR by default, hence ``bgr=True``.
    """
    if inputs.dim() != 3:
        raise ValueError('to_display_image expects (C, H, W), got shape '
                         f'{tuple(inputs.shape)}')
    image = inputs.detach().cpu().permute(1, 2, 0).numpy()
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif bgr:
        image = image[..., ::-1]
    return np.ascontiguousarray(image)


def render_attention_figure(image: np.ndarray,
                            panels: Sequence[Dict[str, np.ndarray]],
                            scale_names: Sequence[str],
                            title: Optional[str] = None,
                            panel_inches: float = 1.7,
                            dpi: int = 100) -> np.ndarray:
    """Draw one image's panels; return the figure as (H, W, 3) uint8 RGB.

    Rows are scales; columns are the input (spanning all rows), teacher and
    student attention (shared [0, 1] colour scale) and teacher and student
    DCT log spectra (one colour scale per row, shared by the two so their
    magnitudes compare directly).
    """
    # Figure + Agg canvas, not pyplot: no global state, safe in a training
    # process and without a display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(panels) != len(scale_names):
        raise ValueError(f'{len(panels)} scales of panels but '
                         f'{len(scale_names)} scale names')
    rows = max(len(panels), 1)
    fig = Figure(figsize=(panel_inches * 5.6, panel_inches * rows + 0.4),
                 dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    # A wider first column: the input is the reference for every row.
    grid = fig.add_gridspec(rows, 5, width_ratios=(1.6, 1, 1, 1, 1))
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image)
    ax.set_title(_COLUMN_TITLES[0], fontsize=8)
    ax.axis('off')
    for row, (name, panel) in enumerate(zip(scale_names, panels)):
        spectra = (panel['teacher_spectrum'], panel['student_spectrum'])
        spec_max = float(max(s.max() for s in spectra)) or 1.0
        for col, key in enumerate(PANEL_KEYS, start=1):
            ax = fig.add_subplot(grid[row, col])
            if key.endswith('attention'):
                ax.imshow(panel[key], cmap='jet', vmin=0, vmax=1)
            else:
                ax.imshow(panel[key], cmap='viridis', vmin=0, vmax=spec_max)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(_COLUMN_TITLES[col], fontsize=8)
            if col == 1:
                distance = float(np.asarray(panel['dct_distance']))
                ax.set_ylabel(f'{name}\nd={distance:.3f}', fontsize=7)
    if title:
        fig.suptitle(title, fontsize=8)
    # Fixed margins: tight_layout costs more than drawing the figure.
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02,
                        top=1 - 0.55 / (panel_inches * rows + 0.4),
                        wspace=0.25, hspace=0.2)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])
