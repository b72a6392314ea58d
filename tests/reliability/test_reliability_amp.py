"""Promise 4: no silent degradation under mixed precision.

``tools/train.py --amp`` on a CPU trains under bfloat16 autocast
(``AutocastOptimWrapper``); the DCT loss must still be computed in float32
and every logged loss must stay finite.
"""
import json
import math

import pytest
import torch

from utils import train_in_process
from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.models.losses import DCTAttentionLoss


def _features(dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(3, 8, 16, 16), (3, 16, 8, 8), (3, 32, 4, 4)]
    return [torch.randn(s, generator=gen).to(dtype) for s in shapes]


@pytest.mark.parametrize('transform', ['dct', 'reference'])
def test_dct_loss_is_float32_under_bf16_autocast(transform):
    """bf16 features under autocast give exactly the float32 loss of the
    same (upcast) features: nothing inside the loss runs in bf16."""
    loss = DCTAttentionLoss(reduction='none', transform=transform)
    student, teacher = _features(torch.bfloat16), _features(torch.bfloat16, 1)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        mixed = loss(student, teacher)
    reference = loss([f.float() for f in student],
                     [f.float() for f in teacher])
    assert mixed.dtype == torch.float32
    assert torch.equal(mixed, reference)
    assert torch.isfinite(mixed).all() and (mixed > 0).all()


@pytest.mark.slow
def test_amp_training_keeps_losses_finite(distill_config, tmp_path):
    trace = tmp_path / 'trace.jsonl'
    final = tmp_path / 'final.pth'
    train_in_process([
        distill_config, '--work-dir',
        str(tmp_path / 'work'), '--amp', '--no-validate', '--cfg-options',
        'randomness.deterministic=False', 'train_cfg.max_epochs=1',
        # bf16 convolutions are slow on CPUs without native bf16: two
        # steps of two images (the second from bf16-updated weights), one
        # per class, so the teacher gets some right and gating keeps them.
        'train_dataloader.dataset.indices=[0,4,8,12]',
        'train_dataloader.batch_size=2',
        f'custom_hooks.0.trace_file={trace}',
        f'custom_hooks.0.final_state_file={final}'
    ])
    with open(trace) as f:
        records = [json.loads(line) for line in f]
    steps = [r for r in records if r['kind'] == 'train']
    assert len(steps) == 2
    # Autocast really was on: the student's features are bfloat16 ...
    assert steps[0]['feature_dtypes']['student.layer1'] == 'torch.bfloat16'
    # ... and every logged loss is finite, the DCT terms not all zero.
    for step in steps:
        assert all(math.isfinite(v) for v in step['losses'].values()), step
    # One DCT loss for the four stages, each stage's term logged beside it.
    totals = [s['losses']['distill.loss_dct'] for s in steps]
    stages = [v for s in steps for k, v in s['losses'].items()
              if k.startswith('distill.dct_layer')]
    assert len(stages) == 8 and any(v > 0 for v in stages)
    assert any(v > 0 for v in totals)
    state = load_checkpoint_file(str(final))['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())
