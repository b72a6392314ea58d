import os.path as osp

import numpy as np
import pytest
import torch
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401
from dctkd_mm.models.losses import DCTAttentionLoss

GOLDEN = osp.join(osp.dirname(__file__), 'data', 'dct_reference_cases.npz')


def _golden_cases():
    data = np.load(GOLDEN)
    cases = sorted({k.split('_')[0] for k in data.files})
    for case in cases:
        n = int(data[f'{case}_n_scales'])
        yield case, dict(
            student=[torch.from_numpy(data[f'{case}_student_{j}'])
                     for j in range(n)],
            teacher=[torch.from_numpy(data[f'{case}_teacher_{j}'])
                     for j in range(n)],
            logits=torch.from_numpy(data[f'{case}_teacher_logits']),
            labels=torch.from_numpy(data[f'{case}_labels']),
            per_sample=data[f'{case}_per_sample_loss'],
            gated=float(data[f'{case}_gated_mean_loss']),
            mean=float(data[f'{case}_mean_loss']))


CASES = list(_golden_cases())


def test_golden_file_has_cases():
    assert len(CASES) == 5


@pytest.mark.parametrize('case,ref', CASES, ids=[c for c, _ in CASES])
def test_reference_mode_matches_authors_implementation(case, ref):
    per_sample = DCTAttentionLoss(
        transform='reference', reduction='none')(ref['student'],
                                                 ref['teacher'])
    np.testing.assert_allclose(per_sample.numpy(), ref['per_sample'],
                               rtol=1e-5)
    loss = DCTAttentionLoss(transform='reference')
    np.testing.assert_allclose(
        float(loss(ref['student'], ref['teacher'])), ref['mean'], rtol=1e-5)
    gated = loss(ref['student'], ref['teacher'], ref['logits'],
                 ref['labels'])
    np.testing.assert_allclose(float(gated), ref['gated'], rtol=1e-5)


def test_gating_zeroes_misclassified_and_divides_by_full_batch():
    s = [torch.rand(4, 3, 6, 6)]
    t = [torch.rand(4, 5, 6, 6)]
    per_sample = DCTAttentionLoss(reduction='none')(s, t)
    logits = torch.eye(4)  # teacher predicts class i for sample i
    labels = torch.tensor([0, 1, 0, 0])  # samples 2 and 3 are wrong
    gated = DCTAttentionLoss()(s, t, logits, labels)
    torch.testing.assert_close(gated, per_sample[:2].sum() / 4)


def test_dct_mode_is_a_true_dct_and_differs_from_reference():
    s, t = [torch.rand(2, 3, 8, 8)], [torch.rand(2, 4, 8, 8)]
    dct = DCTAttentionLoss(reduction='none')(s, t)
    ref = DCTAttentionLoss(transform='reference', reduction='none')(s, t)
    assert torch.isfinite(dct).all() and not torch.allclose(dct, ref)


def test_identical_maps_give_zero_loss_whatever_the_channels():
    feat = torch.rand(3, 8, 7, 9)
    # Repeating channels leaves mean_c F^2 unchanged.
    loss = DCTAttentionLoss()(feat, feat.repeat(1, 3, 1, 1))
    # float32 rounding of the two channel means, amplified by min-max.
    assert float(loss) == pytest.approx(0.0, abs=1e-5)


def test_loss_weight_and_reductions():
    s, t = torch.rand(3, 2, 5, 5), torch.rand(3, 2, 5, 5)
    per_sample = DCTAttentionLoss(reduction='none')(s, t)
    assert per_sample.shape == (3, )
    torch.testing.assert_close(
        DCTAttentionLoss(reduction='sum', loss_weight=2.)(s, t),
        2 * per_sample.sum())
    torch.testing.assert_close(
        DCTAttentionLoss(loss_weight=0.5)(s, t), 0.5 * per_sample.mean())


@pytest.mark.parametrize('transform', ['dct', 'reference'])
def test_constant_maps_give_finite_loss_and_gradients(transform):
    # A dead-ReLU student (all zeros) and 1x1 maps (CIFAR images through an
    # ImageNet ResNet) make the authors' code divide by zero.
    dead = torch.zeros(2, 4, 6, 6, requires_grad=True)
    one_by_one = torch.rand(2, 4, 1, 1, requires_grad=True)
    teacher = [torch.rand(2, 8, 6, 6), torch.rand(2, 8, 1, 1)]
    loss = DCTAttentionLoss(transform=transform)([dead, one_by_one], teacher)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(dead.grad).all()
    assert torch.isfinite(one_by_one.grad).all()


def test_gradient_reaches_student_only_through_student_features():
    s = torch.rand(2, 3, 6, 6, requires_grad=True)
    t = torch.rand(2, 5, 6, 6, requires_grad=True)
    DCTAttentionLoss()(s, t.detach()).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_different_spatial_sizes_are_area_aligned():
    s = torch.rand(2, 3, 7, 7)
    t = torch.rand(2, 5, 14, 14)
    loss = DCTAttentionLoss()(s, t)
    # Equal to comparing with the teacher map area-pooled by 2.
    t_small = torch.nn.functional.avg_pool2d(t.pow(2).mean(1, keepdim=True),
                                             2)
    expected = DCTAttentionLoss()(s, t_small.sqrt())
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)


def test_float32_under_autocast_and_low_precision_inputs():
    s = torch.rand(2, 3, 8, 8).bfloat16()
    t = torch.rand(2, 5, 8, 8).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = DCTAttentionLoss(reduction='none')(s, t)
    assert loss.dtype == torch.float32
    full = DCTAttentionLoss(reduction='none')(s.float(), t.float())
    torch.testing.assert_close(loss, full, rtol=1e-5, atol=1e-5)


def test_mismatched_scales_and_bad_inputs_are_named():
    loss = DCTAttentionLoss()
    with pytest.raises(ValueError, match='student gives 2 scales but '
                       'teacher gives 3'):
        loss([torch.rand(1, 1, 4, 4)] * 2, [torch.rand(1, 1, 4, 4)] * 3)
    with pytest.raises(ValueError, match=r'teacher feature at scale 0.*'
                       r'\(2, 4, 4\)'):
        loss(torch.rand(2, 1, 4, 4), torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match='batch sizes differ at scale 0'):
        loss(torch.rand(2, 1, 4, 4), torch.rand(3, 1, 4, 4))
    with pytest.raises(ValueError, match='both t_logits and gt_labels'):
        loss(torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4),
             t_logits=torch.rand(2, 3))
    with pytest.raises(ValueError, match="transform must be one of"):
        DCTAttentionLoss(transform='fft')
    with pytest.raises(ValueError, match="reduction must be one of"):
        DCTAttentionLoss(reduction='max')


def test_non_finite_features_raise_naming_the_scale():
    s = [torch.rand(2, 3, 4, 4), torch.rand(2, 3, 2, 2)]
    t = [torch.rand(2, 3, 4, 4), torch.rand(2, 3, 2, 2)]
    t[1][0, 0, 0, 0] = float('nan')
    with pytest.raises(FloatingPointError, match=r'scale 1 \(teacher\)'):
        DCTAttentionLoss()(s, t)
    s[0][1, 2, 3, 3] = float('inf')
    with pytest.raises(FloatingPointError, match=r'scale 0 \(student\)'):
        DCTAttentionLoss()(s, t)


def test_gt_labels_from_data_samples():
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in (2, 0)]
    s, t = torch.rand(2, 3, 5, 5), torch.rand(2, 3, 5, 5)
    logits = torch.tensor([[0., 0., 1.], [0., 1., 0.]])
    by_samples = DCTAttentionLoss()(s, t, logits, samples)
    by_tensor = DCTAttentionLoss()(s, t, logits, torch.tensor([2, 0]))
    torch.testing.assert_close(by_samples, by_tensor)


def test_registered_in_mmrazor_models():
    loss = MODELS.build(
        dict(type='mmrazor.DCTAttentionLoss', transform='reference',
             loss_weight=3.))
    assert isinstance(loss, DCTAttentionLoss) and loss.loss_weight == 3.
