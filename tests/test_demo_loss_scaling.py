"""The map-size exponents of the demo's losses (loss_scaling): factors
from the stage map sizes, checked against what ATLoss, L2Loss and the DCT
loss do on upsampled maps."""
import pytest
import torch
import torch.nn.functional as F

from dctkd_mm.demo.loss_scaling import area_ratio, loss_factor

# --- the rescaling rule ---------------------------------------------------


def test_rescaling_factors_come_from_the_map_sizes():
    assert area_ratio([16, 8, 4, 2]) == pytest.approx(12.25)
    assert area_ratio([56, 28, 14, 7]) == 1.
    assert loss_factor('ATLoss', 12.25) == pytest.approx(1 / 12.25)
    assert loss_factor('DCTAttentionLoss', 12.25) == pytest.approx(3.5)
    assert loss_factor('KLDivergence', 12.25) == 1.
    # Embeddings (CRD) and MSEs averaged over C*H*W (SemCKD): no change.
    assert loss_factor('AuthorsCRDLoss', 12.25) == 1.
    assert loss_factor('SemCKDLoss', 12.25) == 1.
    with pytest.raises(KeyError, match="'MSELoss'.*MAP_SIZE_EXPONENTS"):
        loss_factor('MSELoss', 12.25)
    with pytest.raises(ValueError, match='4 stage map sizes'):
        area_ratio([16, 8])


def test_at_loss_scales_as_the_rule_says():
    """ATLoss on maps upsampled k times (same content, k^2 the area) is
    exactly k^-2 times as large: exponent -1 in the area."""
    from mmrazor.models.losses import ATLoss
    torch.manual_seed(0)
    s, t = torch.randn(4, 8, 7, 7), torch.randn(4, 8, 7, 7)
    loss = ATLoss(loss_weight=1.0)
    up = loss(F.interpolate(s, scale_factor=4), F.interpolate(t,
                                                              scale_factor=4))
    assert (up / loss(s, t)).item() == pytest.approx(
        loss_factor('ATLoss', 16.))


def test_l2_loss_exponent_follows_its_options():
    """MMRazor's L2Loss on maps upsampled 4x: unit-normalised features
    give the same loss (exponent 0); div_element divides by 16x the
    elements (exponent -1); raw features sum 16x the squares (exponent
    1); dist takes the square root (half)."""
    from mmrazor.models.losses import L2Loss
    torch.manual_seed(0)
    s, t = torch.randn(4, 8, 7, 7), torch.randn(4, 8, 7, 7)
    for options in (dict(), dict(div_element=True), dict(normalize=False),
                    dict(normalize=False, dist=True),
                    dict(normalize=False, div_element=True)):
        loss = L2Loss(**options)
        ratio = (loss(F.interpolate(s, scale_factor=4),
                      F.interpolate(t, scale_factor=4)) / loss(s, t)).item()
        assert ratio == pytest.approx(
            loss_factor(dict(type='L2Loss', **options), 16.)), options


def test_dct_rule_is_an_upper_bound_on_smooth_maps():
    """The DCT loss's L2 norm runs over H*W coefficients, hence the rule's
    exponent 0.5; on maps upsampled 4x (smooth, so most new coefficients
    match) it grows more slowly: between 1 and the rule's 4x."""
    from dctkd_mm.models.losses import DCTAttentionLoss
    torch.manual_seed(0)
    s, t = torch.rand(8, 8, 7, 7), torch.rand(8, 8, 7, 7)
    loss = DCTAttentionLoss()  # no teacher logits: no gating
    ratio = (loss(F.interpolate(s, scale_factor=4),
                  F.interpolate(t, scale_factor=4)) / loss(s, t)).item()
    assert 1. < ratio <= loss_factor('DCTAttentionLoss', 16.)
