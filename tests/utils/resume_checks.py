"""Checks that a resumed run ends where an uninterrupted one ends: bitwise
equality of two loaded checkpoints (``assert_checkpoints_equal``) or of two
models' weights (``same_weights``); the toy runner of the in-process resume
tests (``train_toy``: a ``DropoutModel`` on a ``NoisyDataset``, so a
generator left in the wrong state shows in the weights); and ``Killed``,
the SIGKILL the ``killed_on_second_save`` fixture (tests/conftest.py)
raises half-way through a checkpoint write."""
import random

import numpy as np
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from .running import runner_state_restored

# --- comparing runs ---------------------------------------------------------

#: Message hub entries that measure wall time or name the run (the
#: version string carries the git commit of the working directory).
_RUN_SPECIFIC = ('time', 'data_time', 'eta', 'cfg', 'experiment_name',
                 'last_ckpt', 'best_ckpt', 'mmengine_version')


def assert_checkpoints_equal(a, b, path='checkpoint'):
    """Bitwise equality of two loaded checkpoints, nested."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), path
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert torch.equal(a, b), (
            f'{path} differs by up to '
            f'{(a.double() - b.double()).abs().max().item()}')
    elif isinstance(a, HistoryBuffer):
        for x, y in zip(a.data, b.data):
            np.testing.assert_array_equal(x, y, err_msg=path)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        keys = [k for k in a if str(k).split('/')[-1] not in _RUN_SPECIFIC]
        assert set(keys) == {
            k for k in b if str(k).split('/')[-1] not in _RUN_SPECIFIC
        }, path
        for k in keys:
            assert_checkpoints_equal(a[k], b[k], f'{path}[{k!r}]')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_checkpoints_equal(x, y, f'{path}[{i}]')
    else:
        assert a == b, f'{path}: {a!r} != {b!r}'


def same_weights(a, b):
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values()))


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even ``except
    Exception`` handlers)."""


# --- the toy runner of the in-process resume tests (tests/reliability/) -----

TOY_SAMPLES, TOY_BATCH, TOY_EPOCHS = 10, 2, 3  # 5 batches per epoch


class NoisyDataset(Dataset):
    """Random jitter from NumPy and Python's ``random`` on each read, as
    data augmentation does."""

    metainfo = dict(classes=('a', 'b'))

    def __init__(self, num_samples=TOY_SAMPLES):
        self.num_samples = num_samples

    def __len__(self):
        return self.num_samples

    def __getitem__(self, idx):
        x = torch.full((4, ), float(idx))
        x += float(np.random.uniform(-1, 1)) + random.uniform(-1, 1)
        return dict(inputs=x, target=torch.tensor(idx % 2), index=idx)


class DropoutModel(BaseModel):
    """Linear model with dropout (the torch generator); records the sample
    indices it trains on."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        with torch.no_grad():  # the same start whatever the generators
            self.fc.weight.copy_(torch.arange(8.).view(2, 4) / 10 - 0.3)
            self.fc.bias.zero_()
        self.drop = nn.Dropout(0.5)
        self.seen = []

    def forward(self, inputs, target, index, mode='tensor'):
        logits = self.fc(self.drop(inputs))
        if mode == 'loss':
            self.seen.extend(index.tolist())
            return dict(loss=nn.functional.cross_entropy(logits, target))
        return [dict(pred=logits.argmax(1), target=target)]


class ToyAccuracy(BaseMetric):

    def process(self, data_batch, data_samples):
        for s in data_samples:
            self.results.append((s['pred'] == s['target']).float().mean())

    def compute_metrics(self, results):
        return dict(acc=float(sum(results)) / len(results))


def train_toy(work_dir, loop='ExactResumeEpochBasedTrainLoop', validate=True,
              resume_from=None, checkpoint=None, max_epochs=TOY_EPOCHS,
              batch=TOY_BATCH, num_samples=TOY_SAMPLES, accumulate=1,
              auto_resume=False, seed=1, seed_in_config=False, sampler=None,
              dataset=None, lr=0.1):
    """Train the toy from scratch (or resume) and return the model.
    ``sampler`` (a config) and ``dataset`` replace the shuffling
    DefaultSampler and the NoisyDataset of ``num_samples``."""
    # Registers ExactResumeEpochBasedTrainLoop and AtomicCheckpointHook.
    import dctkd_mm.engine.runner  # noqa: F401
    loader = dict(
        dataset=dataset if dataset is not None else NoisyDataset(num_samples),
        sampler=sampler or dict(type='DefaultSampler', shuffle=True),
        batch_size=batch,
        num_workers=0,
        collate_fn=dict(type='default_collate'))
    with runner_state_restored():
        runner = Runner(
            model=DropoutModel(),
            work_dir=str(work_dir),
            experiment_name=f'toy_{work_dir.name}',
            train_dataloader=loader,
            train_cfg=dict(type=loop, max_epochs=max_epochs, val_interval=1),
            val_dataloader=loader if validate else None,
            val_cfg=dict() if validate else None,
            val_evaluator=[ToyAccuracy()] if validate else None,
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=lr, momentum=0.9),
                accumulative_counts=accumulate),
            param_scheduler=dict(
                type='MultiStepLR', by_epoch=True, milestones=[1]),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=100),
                checkpoint=checkpoint or dict(
                    type='CheckpointHook', interval=1)),
            randomness=dict(seed=seed),
            # Runner's config, as a config file would give it.
            cfg=dict(randomness=dict(seed=seed)) if seed_in_config else None,
            load_from=resume_from,
            resume=resume_from is not None or auto_resume,
            default_scope='mmengine')
        runner.train()
    return runner.model
