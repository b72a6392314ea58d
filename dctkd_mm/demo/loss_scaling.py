"""How each distillation loss's size depends on the size of its maps.

The authors tuned their weights on 224 px inputs, where a ResNet's four
stages give 56, 28, 14 and 7 px maps; the demo's are smaller. By formula:

* AT (``ATLoss``): the squared difference of two unit-L2 maps, averaged
  over the H*W positions. Its sum over positions does not depend on H*W,
  so the mean scales as ``(H*W) ** -1`` if every position adds alike.
* DCT (``DCTAttentionLoss``): the L2 norm (not squared) of the difference
  of two spectra min-max normalised to [0, 1], over H*W coefficients:
  ``(H*W) ** 0.5`` if every coefficient adds alike.
* Logit and classification losses (KD's ``KLDivergence``, CE) do not
  depend on the maps: exponent 0.
* MMRazor's ``L2Loss`` (FitNets hints) follows from its options: a sum of
  squares over C*H*W (exponent 1), or of unit-normalised features
  (``normalize``, its default: 0); ``dist`` takes the square root (half
  the exponent), ``div_element`` divides by C*H*W (one less).

The demo measures the factor of every loss with a non-zero exponent
(:mod:`.loss_calibration`): on real maps positions and coefficients do not
add alike. The exponents say which losses depend on the map size at all,
and extrapolate (``(authors' H*W / demo H*W) ** e``, the area ratio
averaged over the stages) where a loss cannot be measured.
"""
from typing import Dict, Sequence, Tuple

#: The authors' per-stage map sizes (ResNet at 224 px).
AUTHORS_MAP_SIZES: Tuple[int, ...] = (56, 28, 14, 7)

#: Exponent ``e`` of each distillation loss type: magnitude ~ (H*W) ** e.
#: A new loss type used by a demo arm must be listed here (its magnitude's
#: dependence on the map size is a property of its formula).
MAP_SIZE_EXPONENTS: Dict[str, float] = {
    'ATLoss': -1.0,
    'DCTAttentionLoss': 0.5,
    'KLDivergence': 0.0,
    # MMRazor's L2Loss (hint) on per-sample unit-L2 features: the squared
    # distance of two unit vectors does not depend on their length.
    'L2Loss': 0.0,
    # PKT compares the pooled embeddings: no map at all.
    'PKTLoss': 0.0,
    # VID: a Gaussian negative log-likelihood averaged over C*H*W.
    'VIDLoss': 0.0,
    # CRD contrasts 128-d embeddings of the pooled features (NCE over the
    # sample and its K negatives): no map at all.
    'AuthorsCRDLoss': 0.0,
    # SemCKD: per student/teacher stage pair, the MSE of the projected
    # student map and the teacher map averaged over C*H*W (the regressors
    # and the pooling to the teacher's H*W do not change that), weighted
    # by an attention that sums to 1 over teacher stages and averaged
    # over batch and student stages: a mean, not a sum, over positions.
    'SemCKDLoss': 0.0,
}


def area_ratio(map_sizes: Sequence[int],
               reference: Sequence[int] = AUTHORS_MAP_SIZES) -> float:
    """Mean over stages of (reference H*W) / (demo H*W), square maps."""
    if len(map_sizes) != len(reference):
        raise ValueError(f'expected {len(reference)} stage map sizes (one '
                         f'per ResNet stage), got {list(map_sizes)}')
    if min(map_sizes) < 1:
        raise ValueError(f'map sizes must be >= 1 px, got {list(map_sizes)}')
    ratios = [r * r / (s * s) for r, s in zip(reference, map_sizes)]
    return sum(ratios) / len(ratios)


def loss_type_name(loss_cfg: dict) -> str:
    """``'mmrazor.ATLoss'`` -> ``'ATLoss'``."""
    return str(loss_cfg['type']).split('.')[-1]


def l2_loss_exponent(loss_cfg: dict) -> float:
    """Exponent of MMRazor's ``L2Loss`` with the options of ``loss_cfg``."""
    exponent = 0. if loss_cfg.get('normalize', True) else 1.
    if loss_cfg.get('dist', False):
        return exponent / 2
    return exponent - 1 if loss_cfg.get('div_element', False) else exponent


def loss_exponent(loss_cfg: dict) -> float:
    """Map-size exponent ``e`` of a loss config (magnitude ~ (H*W) ** e)."""
    kind = loss_type_name(loss_cfg)
    if kind == 'L2Loss':
        return l2_loss_exponent(loss_cfg)
    if kind not in MAP_SIZE_EXPONENTS:
        raise KeyError(
            f'demo loss rescaling: no map-size exponent for loss type '
            f'{kind!r}; add it to dctkd_mm.demo.loss_scaling.'
            f'MAP_SIZE_EXPONENTS (known: {sorted(MAP_SIZE_EXPONENTS)} and '
            'L2Loss)')
    return MAP_SIZE_EXPONENTS[kind]


def loss_factor(loss_cfg, ratio: float) -> float:
    """Factor applied to a loss's authors' weight at area ratio ``ratio``;
    ``loss_cfg`` is a loss config dict or a loss type name."""
    if isinstance(loss_cfg, str):
        loss_cfg = dict(type=loss_cfg)
    return ratio**loss_exponent(loss_cfg)


def extrapolated_factors(cfg, ratio: float) -> Dict[str, float]:
    """``{loss name: ratio ** e}`` for every distillation loss of ``cfg``:
    the formulas' extrapolation to area ratio ``ratio`` (the demo measures
    instead, see :mod:`.loss_calibration`)."""
    losses = cfg.model.get('distiller', {}).get('distill_losses', {})
    return {name: loss_factor(loss, ratio) for name, loss in losses.items()}


def rescale_distill_losses(cfg, factors: Dict[str, float]
                           ) -> Dict[str, dict]:
    """Multiply every ``model.distiller.distill_losses`` weight of ``cfg``
    (an MMEngine Config, changed in place) by its entry of ``factors``
    (``{loss name: factor}``, e.g. from
    :meth:`~.loss_calibration.LossCalibration.arm_factors`).

    Returns ``{loss name: {type, authors_weight, factor, weight}}`` for
    the report. A config without a distiller returns ``{}``.
    """
    losses = cfg.model.get('distiller', {}).get('distill_losses', {})
    missing = sorted(set(losses) - set(factors))
    if missing:
        raise KeyError(f'demo loss rescaling: no factor for the distill '
                       f'losses {missing} (given: {sorted(factors)})')
    applied = {}
    for name, loss in losses.items():
        authors = float(loss.get('loss_weight', 1.0))
        factor = float(factors[name])
        loss['loss_weight'] = authors * factor
        applied[name] = dict(type=loss_type_name(loss),
                             authors_weight=authors, factor=factor,
                             weight=authors * factor)
    return applied
