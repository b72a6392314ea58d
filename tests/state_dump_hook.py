"""A hook for the distributed tests: every rank saves its own copy of the
student's weights (the runner's checkpoint only holds rank 0's) and the
sample indices its sampler hands out, so a test can check that all ranks
trained the same model on disjoint shards of the data.

Used through ``custom_imports=dict(imports=['state_dump_hook'])`` with
``tests/`` on ``PYTHONPATH``.
"""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class StudentStateDumpHook(Hook):
    """Per rank, write to ``work_dir``:

    - ``student_{before,after}_epoch{epoch}_rank{rank}.pth``:
      ``student.state_dict()`` before and after training (after the last
      validation), named by the runner's epoch then, so a resumed run
      (``before_epoch1``) keeps the first run's dumps (``after_epoch1``);
    - ``sampler_epoch{epoch}_rank{rank}.json``: the train sampler's indices
      for each epoch.
    """

    # Last: after DistSamplerSeedHook set the sampler's epoch, and after
    # any hook that changes the model at the end of training.
    priority = 'LOWEST'

    def _path(self, runner, name: str) -> str:
        return osp.join(runner.work_dir, f'{name}_rank{get_rank()}')

    def _dump_student(self, runner, stage: str) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        state = {
            k: v.detach().cpu().clone()
            for k, v in model.student.state_dict().items()
        }
        torch.save(
            state,
            self._path(runner, f'student_{stage}_epoch{runner.epoch}') +
            '.pth')

    def before_train(self, runner) -> None:
        self._dump_student(runner, 'before')

    def before_train_epoch(self, runner) -> None:
        # The sampler is deterministic given its seed and epoch, so this is
        # the order the dataloader is about to use.
        indices = [int(i) for i in runner.train_dataloader.sampler]
        with open(
                self._path(runner, f'sampler_epoch{runner.epoch}') + '.json',
                'w') as f:
            json.dump(indices, f)

    def after_train(self, runner) -> None:
        self._dump_student(runner, 'after')
