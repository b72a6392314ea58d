"""DCTAttentionLoss(compile=...) computes what the eager loss computes.

Dynamo's eager backend keeps these fast and compiler-free; the inductor
speed-up is measured by tools/benchmark.py (docs/benchmarks.md).
"""
import pytest
import torch

import dctkd_mm  # noqa: F401
from dctkd_mm.models.losses import DCTAttentionLoss
from dctkd_mm.models.utils import labels_from

EAGER_BACKEND = dict(backend='eager')


def features(seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = ((8, 16, 12), (16, 32, 6), (32, 64, 3))  # s_ch, t_ch, size
    students = [torch.rand(3, s, n, n, generator=gen).requires_grad_()
                for s, _, n in shapes]
    teachers = [torch.rand(3, t, n, n, generator=gen) for _, t, n in shapes]
    return students, teachers


@pytest.mark.parametrize('transform', ['dct', 'reference'])
def test_compiled_matches_eager(transform):
    results = []
    for compile in (False, EAGER_BACKEND):
        students, teachers = features()
        loss = DCTAttentionLoss(transform=transform, compile=compile)(
            students, teachers)
        loss.backward()
        results.append((loss.detach(), [s.grad for s in students]))
    (eager, eager_grads), (compiled, compiled_grads) = results
    torch.testing.assert_close(compiled, eager)
    for got, expected in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(got, expected)


def test_compiled_still_names_non_finite_features():
    students, teachers = features()
    teachers[2] = teachers[2].clone()
    teachers[2][0, 0, 0, 0] = float('inf')
    with pytest.raises(FloatingPointError, match=r'scale 2 \(teacher\)'):
        DCTAttentionLoss(compile=EAGER_BACKEND)(students, teachers)


def test_compile_option_is_checked():
    with pytest.raises(TypeError, match='compile must be a bool or a dict'):
        DCTAttentionLoss(compile='inductor')


def test_labels_from_multi_label_samples_takes_the_first():
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label([3, 1]),
               DataSample().set_gt_label(2)]
    assert labels_from(samples, torch.device('cpu')).tolist() == [3, 2]
