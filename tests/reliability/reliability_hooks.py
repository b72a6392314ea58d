"""Test-only hooks for the kill-and-resume tests.

Imported by the runs under test through ``custom_imports`` with
``tests/reliability`` on ``PYTHONPATH``; never part of the package.
"""
import hashlib
import json
import os
import signal

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class TraceAndKillHook(Hook):
    """Append one JSON line per trained iteration and per validation to
    ``trace_file``, and SIGKILL this process just before iteration
    ``kill_at`` (counted from 0; -1 never) or at the end of epoch
    ``kill_after_epoch`` (counted from 1, before any other hook saw the
    epoch end; -1 never). When training ends, the full training state
    (weights, optimizer, schedulers, message hub, counters) is written to
    ``final_state_file``: what a finished run leaves, whichever
    checkpoints ``CheckpointHook`` happened to write.

    A trained iteration's line holds the sample indices of its batch, a
    digest of the augmented images and the losses, so a test can tell a
    repeated, skipped or differently augmented batch from a right one.
    SIGKILL, not an exception, so no ``finally`` or ``atexit`` of the run
    can tidy up: this is the machine losing power.
    """

    priority = 'HIGHEST'  # kill before any other hook runs

    def __init__(self,
                 trace_file: str = '',
                 kill_at: int = -1,
                 kill_after_epoch: int = -1,
                 final_state_file: str = '') -> None:
        self.trace_file = trace_file
        self.final_state_file = final_state_file
        self.kill_at = kill_at
        self.kill_after_epoch = kill_after_epoch

    def _write(self, record: dict) -> None:
        if not self.trace_file:
            return
        with open(self.trace_file, 'a') as f:
            f.write(json.dumps(record) + '\n')
            f.flush()
            os.fsync(f.fileno())

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.kill_after_epoch:
            os.kill(os.getpid(), signal.SIGKILL)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        images = torch.stack(data_batch['inputs']).contiguous()
        self._write(
            dict(
                kind='train',
                iter=runner.iter,
                epoch=runner.epoch,
                batch_idx=batch_idx,
                samples=[s.sample_idx for s in data_batch['data_samples']],
                images=hashlib.sha1(images.numpy().tobytes()).hexdigest(),
                losses={k: float(v)
                        for k, v in sorted(outputs.items())},
                feature_dtypes=_recorded_dtypes(runner.model)))

    def after_train(self, runner):
        if not self.final_state_file:
            return
        model = getattr(runner.model, 'module', runner.model)
        torch.save(
            dict(
                epoch=runner.epoch,
                iter=runner.iter,
                state_dict=model.state_dict(),
                optimizer=runner.optim_wrapper.state_dict(),
                param_schedulers=[
                    s.state_dict() for s in runner.param_schedulers
                ],
                message_hub=runner.message_hub.state_dict()),
            self.final_state_file)

    def after_val_epoch(self, runner, metrics=None):
        self._write(
            dict(
                kind='val',
                iter=runner.iter,
                metrics={k: float(v)
                         for k, v in sorted((metrics or {}).items())}))


def _recorded_dtypes(model) -> dict:
    """dtype of what each student/teacher recorder holds after the step,
    e.g. ``{'student.layer1': 'torch.bfloat16'}`` under autocast."""
    distiller = getattr(getattr(model, 'module', model), 'distiller', None)
    dtypes = {}
    for side in ('student', 'teacher'):
        manager = getattr(distiller, f'{side}_recorders', None)
        for name, recorder in getattr(manager, 'recorders', {}).items():
            data = getattr(recorder, 'data_buffer', None) or [None]
            if isinstance(data[0], torch.Tensor):
                dtypes[f'{side}.{name}'] = str(data[0].dtype)
    return dtypes
