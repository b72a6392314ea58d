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
def test_default_transform_matches_authors_implementation(case, ref):
    """The default ('dft_real') is the authors' loss: per sample, plain
    mean and teacher-correct gated mean of their reference cases."""
    assert DCTAttentionLoss().transform == 'dft_real'
    per_sample = DCTAttentionLoss(reduction='none')(ref['student'],
                                                    ref['teacher'])
    np.testing.assert_allclose(per_sample.numpy(), ref['per_sample'],
                               rtol=1e-5)
    loss = DCTAttentionLoss()
    np.testing.assert_allclose(
        float(loss(ref['student'], ref['teacher'])), ref['mean'], rtol=1e-5)
    gated = loss(ref['student'], ref['teacher'], ref['logits'],
                 ref['labels'])
    np.testing.assert_allclose(float(gated), ref['gated'], rtol=1e-5)


@pytest.mark.parametrize('case,ref', CASES[:2], ids=['case0', 'case1'])
def test_reference_is_an_alias_of_dft_real(case, ref):
    args = (ref['student'], ref['teacher'], ref['logits'], ref['labels'])
    torch.testing.assert_close(
        DCTAttentionLoss(transform='reference')(*args),
        DCTAttentionLoss(transform='dft_real')(*args), rtol=0, atol=0)


def _scipy_dct_loss(student, teacher):
    """Independent per-sample 'dct' loss of one scale with scipy's DCT."""
    import scipy.fft

    def unit(x):
        low = x.min(axis=(-2, -1), keepdims=True)
        high = x.max(axis=(-2, -1), keepdims=True)
        return (x - low) / (high - low)

    specs = []
    for feat in (student, teacher):
        amap = unit((feat.astype(np.float64)**2).mean(axis=1))
        amap = amap - amap.mean(axis=(-2, -1), keepdims=True)
        specs.append(unit(scipy.fft.dctn(amap, axes=(-2, -1),
                                         norm='ortho')))
    return np.sqrt(((specs[0] - specs[1])**2).sum(axis=(-2, -1)))


def test_gating_zeroes_misclassified_and_divides_by_full_batch():
    s = [torch.rand(4, 3, 6, 6)]
    t = [torch.rand(4, 5, 6, 6)]
    per_sample = DCTAttentionLoss(reduction='none')(s, t)
    logits = torch.eye(4)  # teacher predicts class i for sample i
    labels = torch.tensor([0, 1, 0, 0])  # samples 2 and 3 are wrong
    gated = DCTAttentionLoss()(s, t, logits, labels)
    torch.testing.assert_close(gated, per_sample[:2].sum() / 4)


def test_dct_transform_is_the_orthonormal_dct_ii():
    gen = torch.Generator().manual_seed(0)
    s, t = torch.rand(2, 3, 8, 6, generator=gen), torch.rand(
        2, 4, 8, 6, generator=gen)
    dct = DCTAttentionLoss(transform='dct', reduction='none')(s, t)
    np.testing.assert_allclose(dct.numpy(),
                               _scipy_dct_loss(s.numpy(), t.numpy()),
                               rtol=1e-4)
    dft = DCTAttentionLoss(reduction='none')(s, t)
    assert not torch.allclose(dct, dft, rtol=1e-2)


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


@pytest.mark.parametrize('transform', ['dct', 'dft_real'])
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
        dict(type='mmrazor.DCTAttentionLoss', transform='dct',
             loss_weight=3.))
    assert isinstance(loss, DCTAttentionLoss) and loss.loss_weight == 3.


def test_gating_arguments_are_checked_before_the_loss_is_computed():
    # A NaN feature would raise FloatingPointError if the loss ran first.
    s, t = torch.rand(3, 2, 4, 4), torch.full((3, 2, 4, 4), float('nan'))
    loss = DCTAttentionLoss()
    with pytest.raises(ValueError, match=r't_logits must be .*\(B, '
                       r'num_classes\) with B=3, got \(3,\)'):
        loss(s, t, torch.rand(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r'B=3, got \(2, 5\)'):
        loss(s, t, torch.rand(2, 5), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='2 labels for a batch of 3'):
        loss(s, t, torch.rand(3, 5), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'gt_labels must be \(B,\) class '
                       r'indices, got shape \(3, 1, 1\)'):
        loss(s, t, torch.rand(3, 5), torch.zeros(3, 1, 1))


def test_soft_labels_gate_by_their_argmax():
    s, t = torch.rand(2, 3, 5, 5), torch.rand(2, 3, 5, 5)
    logits = torch.tensor([[0., 1.], [0., 1.]])
    soft = torch.tensor([[0.2, 0.8], [0.9, 0.1]])  # e.g. after Mixup
    torch.testing.assert_close(
        DCTAttentionLoss()(s, t, logits, soft),
        DCTAttentionLoss()(s, t, logits, torch.tensor([1, 0])))


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_stage_values_sum_to_the_loss_and_match_single_stage_calls(
        reduction):
    gen = torch.Generator().manual_seed(1)
    # Two stages share a map size, so they are computed in one stack.
    sizes = (8, 4, 4, 2)
    s = [torch.rand(3, 2, n, n, generator=gen) for n in sizes]
    t = [torch.rand(3, 5, n, n, generator=gen) for n in sizes]
    logits, labels = torch.eye(3), torch.tensor([0, 2, 2])
    loss = DCTAttentionLoss(loss_weight=2., reduction=reduction)
    total, stages = loss(s, t, logits, labels, return_stages=True)
    assert stages.shape == (4, ) and not stages.requires_grad
    torch.testing.assert_close(stages.sum(), total)
    for i in range(4):
        torch.testing.assert_close(stages[i],
                                   loss(s[i], t[i], logits, labels))


@pytest.mark.parametrize('transform', ['dft_real', 'dct'])
def test_fused_stages_equal_grouped_stages_with_gradients(transform):
    gen = torch.Generator().manual_seed(2)
    # Unequal, non-square and repeated sizes, a constant map, a 1x1 map.
    sizes = ((12, 10), (6, 6), (6, 6), (3, 5), (1, 1))
    results = []
    for fuse in (False, True):
        gen.manual_seed(2)
        s = [torch.rand(3, 2, h, w, generator=gen).requires_grad_()
             for h, w in sizes]
        t = [torch.rand(3, 4, h, w, generator=gen) for h, w in sizes]
        with torch.no_grad():
            s[1][0].fill_(0.5)
        loss = DCTAttentionLoss(transform=transform, reduction='none',
                                fuse_stages=fuse)
        per_sample, stages = loss(s, t, torch.eye(3), torch.tensor([0, 1, 0]),
                                  return_stages=True)
        per_sample.sum().backward()
        results.append((per_sample, stages, [x.grad for x in s]))
    (p0, st0, g0), (p1, st1, g1) = results
    torch.testing.assert_close(p1, p0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(st1, st0, rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g0):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('case,ref', CASES, ids=[c for c, _ in CASES])
def test_fused_stages_match_authors_implementation(case, ref):
    loss = DCTAttentionLoss(fuse_stages=True)
    np.testing.assert_allclose(
        DCTAttentionLoss(reduction='none', fuse_stages=True)(
            ref['student'], ref['teacher']).numpy(), ref['per_sample'],
        rtol=1e-5)
    gated = loss(ref['student'], ref['teacher'], ref['logits'],
                 ref['labels'])
    np.testing.assert_allclose(float(gated), ref['gated'], rtol=1e-5)
