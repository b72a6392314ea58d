"""AtomicCheckpointHook (configs/_base_/default_runtime.py): a kill during
a save never leaves the work dir without a usable checkpoint, a broken
``last_checkpoint`` falls back to the newest readable checkpoint, and the
checkpoints it writes hold no NumPy data. On the toy runner
(``utils.train_toy``; fast, in process).
"""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from utils import Killed, same_weights, train_toy

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _checkpoints(work_dir):
    return sorted(n for n in os.listdir(work_dir) if n.endswith('.pth'))


@pytest.mark.parametrize('hook, survives', [('AtomicCheckpointHook', True),
                                            ('CheckpointHook', False)])
def test_kill_during_save_with_max_keep_one_leaves_a_checkpoint(
        tmp_path, killed_on_second_save, hook, survives):
    """Issue 10 case 7: max_keep_ckpts=1, killed while writing epoch_2.
    MMEngine's hook (the control) has already deleted epoch_1 and leaves
    only a truncated epoch_2; ours still has epoch_1, complete, and
    ``last_checkpoint`` names it."""
    checkpoint = dict(type=hook, interval=1, max_keep_ckpts=1)
    with pytest.raises(Killed):
        train_toy(tmp_path, checkpoint=checkpoint)
    if not survives:
        assert _checkpoints(tmp_path) == ['epoch_2.pth']  # truncated
        return
    assert _checkpoints(tmp_path) == ['epoch_1.pth']
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == str(tmp_path / 'epoch_1.pth')


def test_resume_after_a_kill_during_save_is_exact(tmp_path,
                                                  killed_on_second_save):
    checkpoint = dict(type='AtomicCheckpointHook', interval=1,
                      max_keep_ckpts=1)
    with pytest.raises(Killed):
        train_toy(tmp_path / 'killed', checkpoint=checkpoint)
    full = train_toy(tmp_path / 'full', checkpoint=checkpoint)
    resumed = train_toy(tmp_path / 'killed', checkpoint=checkpoint,
                        auto_resume=True)
    assert same_weights(full, resumed)


@pytest.mark.parametrize('content', ['', 'dangling', 'truncated'])
def test_broken_last_checkpoint_falls_back_to_newest_readable(
        tmp_path, content, capsys):
    """Issue 10 case 7: an empty ``last_checkpoint`` (killed between
    truncate and write), one naming a missing file, or one naming a cut
    file: auto-resume uses the newest complete checkpoint and says so."""
    checkpoint = dict(type='AtomicCheckpointHook', interval=1,
                      max_keep_ckpts=-1)
    work = tmp_path / f'work_{content or "empty"}'  # a logger of its own
    train_toy(work, checkpoint=checkpoint, max_epochs=2)
    if content == 'truncated':
        with open(work / 'epoch_2.pth', 'rb') as f:
            data = f.read()
        with open(work / 'epoch_2.pth', 'wb') as f:
            f.write(data[:len(data) // 2])
        target = str(work / 'epoch_2.pth')
    else:
        target = '' if content == '' else str(work / 'epoch_9.pth')
    with open(work / 'last_checkpoint', 'w') as f:
        f.write(target)
    expected = str(work / ('epoch_1.pth' if content == 'truncated' else
                           'epoch_2.pth'))
    full = train_toy(tmp_path / 'full', checkpoint=checkpoint)
    resumed = train_toy(work, checkpoint=checkpoint, auto_resume=True)
    log = capsys.readouterr().out
    assert 'newest readable checkpoint' in log and expected in log, log
    assert same_weights(full, resumed)


def test_written_checkpoints_hold_no_numpy_and_load_without_allowlist(
        tmp_path):
    """The message hub's HistoryBuffers are stored as tensors: plain
    ``torch.load`` (weights_only, PyTorch's default allowlist) reads the
    file; the resume test above shows they become HistoryBuffers again."""
    train_toy(tmp_path,
              checkpoint=dict(type='AtomicCheckpointHook', interval=1),
              max_epochs=1)
    with open(tmp_path / 'epoch_1.pth', 'rb') as f:
        raw = f.read()
    for global_name in (b'numpy.', b'_reconstruct', b'HistoryBuffer'):
        assert global_name not in raw, global_name
    loaded = torch.load(str(tmp_path / 'epoch_1.pth'), weights_only=True)
    assert loaded['message_hub']['log_scalars']['train/loss']


def test_default_runtime_uses_the_hook():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    from mmpretrain.registry import HOOKS  # the configs' default scope
    assert HOOKS.get('AtomicCheckpointHook') is not None
    assert HOOKS.get('ClassCountCheckHook') is not None
    assert cfg.default_hooks.class_count.type == 'ClassCountCheckHook'


def test_numpy_free_keeps_container_types_and_values():
    """What the hook does to every checkpoint entry: NumPy numbers become
    tensors / Python numbers, strings lists; dict subclasses (the
    schedulers' ``Counter`` milestones) keep their type and contents."""
    from collections import Counter, OrderedDict

    import numpy as np

    from dctkd_mm.engine.runner.checkpoint_contents import numpy_free
    value = OrderedDict(
        milestones=Counter({1: 1, 3: 2}), a=np.arange(3, dtype=np.int16),
        s=np.float32(0.5), names=np.array(['x', 'y']),
        nested=[(np.int64(2), 'k')])
    out = numpy_free(value)
    assert type(out) is OrderedDict and out['milestones'] == Counter(
        {1: 1, 3: 2}) and type(out['milestones']) is Counter
    assert out['a'].dtype == torch.int16 and out['a'].tolist() == [0, 1, 2]
    assert out['s'] == 0.5 and type(out['s']) is float
    assert out['names'] == ['x', 'y']
    assert out['nested'] == [(2, 'k')] and type(out['nested'][0][0]) is int
