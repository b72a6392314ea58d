"""DCTAttentionLoss(compile=...) computes what the eager loss computes.

Dynamo's eager backend keeps these fast and compiler-free; the inductor
speed-up is measured by tools/analysis_tools/benchmark.py
(docs/benchmarks.md).
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


@pytest.mark.parametrize('fuse_stages', [False, True])
@pytest.mark.parametrize('transform', ['dct', 'dft_real'])
def test_compiled_matches_eager(transform, fuse_stages):
    results = []
    for compile in (False, EAGER_BACKEND):
        students, teachers = features()
        loss = DCTAttentionLoss(transform=transform, compile=compile,
                                fuse_stages=fuse_stages)(students, teachers)
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


def test_varying_batch_sizes_compile_at_most_two_graphs():
    """A new batch size recompiles once with a symbolic batch; later sizes
    reuse that graph instead of piling up towards Dynamo's limit."""
    from torch._dynamo.testing import CompileCounter
    counter = CompileCounter()
    loss = DCTAttentionLoss(compile=dict(backend=counter))
    gen = torch.Generator().manual_seed(0)
    for batch in (4, 5, 3, 7, 2, 6):
        s = [torch.rand(batch, 4, n, n, generator=gen) for n in (8, 4, 2)]
        t = [torch.rand(batch, 6, n, n, generator=gen) for n in (8, 4, 2)]
        logits = torch.rand(batch, 3, generator=gen)
        labels = torch.randint(3, (batch, ), generator=gen)
        torch.testing.assert_close(
            loss(s, t, logits, labels),
            DCTAttentionLoss()(s, t, logits, labels))
    assert 1 <= counter.frame_count <= 2, counter.frame_count
