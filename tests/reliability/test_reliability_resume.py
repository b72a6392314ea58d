"""Promise 1: a run killed at any point and resumed with
``tools/train.py --resume`` ends exactly where an uninterrupted run ends.

One uninterrupted run of the flagship config (tiny data, 2 epochs of 4
iterations, a checkpoint every 2 iterations, validation after each epoch)
runs side by side with a chain of runs killed with SIGKILL and resumed:

1. killed before iteration 3        -> last checkpoint iter_2, mid-epoch 1
2. ``--resume`` (auto): continues epoch 1 at its batch 2, validates, is
   killed as epoch 2 ends, before any hook saw the end (iter_8 saved)
3. ``--resume work/iter_8.pth``: epoch 2 trained but its end (scheduler
   step, validation) pending; finishes.

Both must agree bit for bit: every trained batch (sample indices, a
digest of the augmented images, every loss), every validation metric, and
the final training state: weights (student, frozen teacher, the
teacher-side ``ResidualFeatureAdapter``), optimizer, schedulers, message hub
history and counters. The resume from an epoch boundary (the flagship's
per-epoch checkpoints) is covered, with a model that uses the torch
generator, in test_reliability_resume_loop.py.
"""
import json
import os.path as osp

import pytest
from mmengine.config import Config

import utils
from dctkd_mm.compat import load_checkpoint_file


def _read_trace(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_flagship_uses_the_exact_resume_loop():
    cfg = Config.fromfile(utils.FLAGSHIP_CONFIG)
    assert cfg.train_cfg.type == 'ExactResumeEpochBasedTrainLoop'
    assert 'by_epoch' not in cfg.train_cfg


@pytest.mark.slow
def test_killed_and_resumed_run_matches_uninterrupted_run(
        distill_config, uninterrupted_run, tmp_path):
    chain_dir = str(tmp_path / 'chain')
    trace = str(tmp_path / 'chain.jsonl')
    final = str(tmp_path / 'chain_final.pth')

    def train(*args, log, killed, **hook):
        run = utils.start_training(distill_config, chain_dir, *args,
                                *utils.trace_options(trace, final, **hook),
                                log_name=log)
        utils.finish(run, chain_dir, log, expect_killed=killed)
        with open(osp.join(chain_dir, log)) as f:
            return f.read()

    train(log='run1.log', killed=True, kill_at=3)
    assert osp.isfile(osp.join(chain_dir, 'iter_2.pth'))
    assert not osp.exists(osp.join(chain_dir, 'iter_4.pth'))

    log = train('--resume', log='run2.log', killed=True, kill_after_epoch=2)
    assert 'resumed epoch: 0, iter: 2' in log
    assert not osp.exists(final)

    log = train('--resume', osp.join(chain_dir, 'iter_8.pth'),
                log='run3.log', killed=False)
    assert 'resumed epoch: 1, iter: 8' in log

    full = uninterrupted_run.wait()
    full_records = _read_trace(full.trace_file)
    expected = {(r['kind'], r['iter']): r for r in full_records}
    chain_records = _read_trace(trace)
    # Every record of the chain, including the work lost to the first kill
    # and redone, is what the uninterrupted run did at that point.
    for record in chain_records:
        key = (record['kind'], record['iter'])
        assert key in expected, f'chain did {key}, the full run did not'
        assert record == expected[key], key
    trained = [r['iter'] for r in chain_records if r['kind'] == 'train']
    assert trained == [0, 1, 2, 2, 3, 4, 5, 6, 7]  # 2 redone after kill 1
    assert [r['iter'] for r in chain_records if r['kind'] == 'val'] == [4, 8]
    # Each epoch saw every sample exactly once.
    for epoch in range(2):
        samples = [s for r in full_records if r['kind'] == 'train'
                   and r['epoch'] == epoch for s in r['samples']]
        assert sorted(samples) == list(range(utils.NUM_CLASSES * utils.PER_CLASS))

    final_full = load_checkpoint_file(full.final_state_file)
    final_chain = load_checkpoint_file(final)
    assert (final_full['epoch'], final_full['iter']) == (2, 8)
    state = final_full['state_dict']
    for prefix in ('architecture.', 'teacher.',
                   'distiller.connectors.t_amam_s4.'):
        assert any(k.startswith(prefix) for k in state), prefix
    # The adapters trained: their last conv left its zero initialisation.
    assert state['distiller.connectors.t_amam_s1.expand.weight'].any()
    # The lr stepped after epoch 1; SGD momentum buffers exist.
    assert final_full['optimizer']['param_groups'][0]['lr'] == pytest.approx(
        0.002)
    assert final_full['optimizer']['state']
    # RuntimeInfoHook's 'iter'/'epoch' record the last hook call: the run
    # that only finished epoch 2's end last called before_train (8), the
    # uninterrupted one before_train_iter (7). The counters are above.
    for state in (final_full, final_chain):
        for key in ('iter', 'epoch'):
            state['message_hub']['runtime_info'].pop(key)
    utils.assert_checkpoints_equal(final_full, final_chain)
