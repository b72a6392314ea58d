import pytest
import torch
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401
from dctkd_mm.models.connectors import (AttentionMapConnector,
                                        ResidualFeatureAdapter)


def test_attention_map_connector_normalisations():
    feat = torch.rand(2, 6, 5, 7)
    raw = MODELS.build(
        dict(type='mmrazor.AttentionMapConnector', normalize=None))
    expected = feat.pow(2).mean(1, keepdim=True)
    torch.testing.assert_close(raw(feat), expected)

    minmax = AttentionMapConnector()(feat)
    assert minmax.shape == (2, 1, 5, 7)
    flat = minmax.flatten(1)
    torch.testing.assert_close(flat.amin(1), torch.zeros(2))
    torch.testing.assert_close(flat.amax(1), torch.ones(2))

    l2 = AttentionMapConnector(normalize='l2')(feat).flatten(1)
    torch.testing.assert_close(l2.norm(dim=1), torch.ones(2))


def test_attention_map_connector_p_and_errors():
    feat = torch.randn(1, 3, 4, 4)
    out = AttentionMapConnector(p=1, normalize=None)(feat)
    torch.testing.assert_close(out, feat.abs().mean(1, keepdim=True))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\).*\(3, 4, 4\)'):
        AttentionMapConnector()(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match='normalize must be one of'):
        AttentionMapConnector(normalize='softmax')


def test_residual_feature_adapter_starts_as_identity_and_learns():
    adapter = MODELS.build(
        dict(type='mmrazor.ResidualFeatureAdapter', in_channels=8))
    adapter.init_weights()
    feat = torch.rand(4, 8, 6, 6)
    torch.testing.assert_close(adapter(feat), feat)

    target = torch.rand(4, 8, 6, 6)
    optim = torch.optim.SGD(adapter.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in adapter.state_dict().items()}
    loss = (adapter(feat) - target).pow(2).mean()
    loss.backward()
    optim.step()
    changed = [k for k, v in adapter.state_dict().items()
               if not torch.equal(v, before[k])]
    assert 'expand.weight' in changed
    assert (adapter(feat) - target).pow(2).mean() < loss


def test_residual_feature_adapter_rejects_wrong_channels():
    with pytest.raises(ValueError, match=r'in_channels=8.*\(1, 4, 2, 2\)'):
        ResidualFeatureAdapter(8)(torch.rand(1, 4, 2, 2))


def test_old_side_branch_name_is_gone():
    """The side branch is not Wu et al.'s module and no longer carries its
    name; the adaptive module is AdaptiveTeacherDistill."""
    assert MODELS.get('ActivationMapAdapter') is None
    assert MODELS.get('AdaptiveTeacherDistill') is not None
