"""An epoch-based training loop that resumes exactly where it stopped.

MMEngine 0.10.7's ``EpochBasedTrainLoop`` resumes from a checkpoint by
setting its epoch and iteration counters and then running the *whole*
current epoch again. A checkpoint written mid-epoch (``CheckpointHook``
with ``by_epoch=False``, or any hook that saves between epochs' ends)
therefore trains the batches it had already seen a second time, runs
past ``max_iters`` and shifts every iteration-based schedule. MMEngine
also does not save the random generators' state, so even a resume at an
epoch boundary draws different augmentations than the uninterrupted run.

:class:`ExactResumeEpochBasedTrainLoop` fixes both:

* It skips the batches of the current epoch that the checkpoint already
  trained, by dropping their *indices* from the sampler (no image is read),
  so every sample is seen exactly once per epoch, in the same order.
* After every iteration it records the generators' state in the message
  hub, which every checkpoint saves and ``resume`` restores; the resumed
  run restores it at the point the interrupted run had reached.
* Validation runs with the generators' state preserved, so whether the
  resumed run repeats a validation or not cannot change training.
* It records what the position depends on (sample list, batch size,
  processes, sampler type, shuffling and seed, accumulation count) and
  what a resume would silently override (optimizer hyperparameters,
  ``auto_scale_lr``, the data preprocessor's normalisation), and refuses a
  resume where one changed (:mod:`.resume_settings`).
* Everything it restores from a checkpoint is type- and range-checked
  first (:class:`~.rng_state.CorruptCheckpointStateError` otherwise).

With ``num_workers=0`` and ``randomness=dict(seed=..., deterministic=True)``
a run killed at any iteration and resumed from its last checkpoint ends
with bit-identical weights, optimizer state and metrics (see
``docs/reliability.md``). With ``num_workers > 0`` the data order is still
exact, but the workers' augmentation streams for the rest of the
interrupted epoch are not replayed.
"""
import itertools
import logging
from contextlib import contextmanager
from typing import Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import BatchSampler

from .resume_settings import (check_resume_settings, configured_settings,
                              run_settings)
from .rng_state import (CorruptCheckpointStateError, get_rng_state,
                        preserved_rng_state, set_rng_state, type_name,
                        validated_rng_state)

#: Message hub key of the loop's position and the generators' state after
#: the last iteration (saved in every checkpoint with the message hub).
RESUME_STATE_KEY = 'exact_resume_state'
_STATE_PATH = f'message_hub.runtime_info.{RESUME_STATE_KEY}'


class _SkipFirst:
    """A sampler yielding all but the first ``num_skipped`` indices of
    ``sampler``, for the one epoch that resumes mid-way."""

    def __init__(self, sampler, num_skipped: int) -> None:
        self.sampler = sampler
        self.num_skipped = num_skipped

    def __iter__(self):
        return itertools.islice(iter(self.sampler), self.num_skipped, None)

    def __len__(self) -> int:
        # The epoch keeps its length: batch indices continue from where
        # the interrupted run stopped.
        return len(self.sampler)


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` whose resume continues a run exactly.

    Same arguments as MMEngine's ``EpochBasedTrainLoop``; use it with
    ``train_cfg = dict(type='ExactResumeEpochBasedTrainLoop',
    max_epochs=..., val_interval=...)`` (no ``by_epoch`` key).
    """

    _resume_done, _resume_rng, _settings = 0, None, None

    def __init__(self, runner, *args, **kwargs) -> None:
        super().__init__(runner, *args, **kwargs)
        # The runner builds this loop before the optimizer and before the
        # resume: the config's lr is visible now, the checkpoint's later.
        self._configured = configured_settings(runner, self.dataloader)

    def run(self):
        """Launch training (``EpochBasedTrainLoop.run`` with validation
        kept from touching the random generators)."""
        self._resume_done, self._resume_rng = self._resume_point()
        self._settings = run_settings(self.runner, self.dataloader,
                                      self._configured)
        self.runner.call_hook('before_train')
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                with preserved_rng_state():
                    self.runner.val_loop.run()
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate over the batches of this epoch not trained yet."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done, rng_state = self._resume_done, self._resume_rng
        self._resume_done, self._resume_rng = 0, None
        if rng_state is not None and done == 0:
            set_rng_state(rng_state)
        with self._batches_from(done) as batches:
            if rng_state is not None and done > 0:
                # The interrupted run stood here: epoch's data iterator
                # created, ``done`` batches trained.
                set_rng_state(rng_state)
            for idx, data_batch in enumerate(batches, start=done):
                self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    @contextmanager
    def _batches_from(self, done: int):
        """An iterator over this epoch's batches from batch ``done`` on."""
        batch_sampler = self.dataloader.batch_sampler
        if done == 0:
            yield iter(self.dataloader)
        elif isinstance(batch_sampler, BatchSampler):
            # BatchSampler reads ``self.sampler`` when iteration starts, so
            # it must stay wrapped until the epoch is over.
            sampler = batch_sampler.sampler
            batch_sampler.sampler = _SkipFirst(
                sampler, done * batch_sampler.batch_size)
            try:
                yield iter(self.dataloader)
            finally:
                batch_sampler.sampler = sampler
        else:
            # A batch sampler that groups indices its own way: load the
            # trained batches and drop them, as IterBasedTrainLoop does
            # (slow, but right; the generators are restored afterwards).
            print_log(
                f'{type(batch_sampler).__name__} is not a torch '
                f'BatchSampler: loading and dropping the {done} batches '
                'already trained this epoch.',
                logger='current',
                level=logging.WARNING)
            batches = iter(self.dataloader)
            for _ in range(done):
                next(batches)
            yield batches

    def run_iter(self, idx, data_batch: Sequence[dict]) -> None:
        """``EpochBasedTrainLoop.run_iter``, recording the generators' state
        right after the step, before any hook may save a checkpoint."""
        self.runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.message_hub.update_info(
            RESUME_STATE_KEY,
            dict(
                iter=self._iter + 1,
                epoch=self._epoch,
                batches_done=idx + 1,
                epoch_length=len(self.dataloader),
                settings=self._settings,
                rng=get_rng_state()))
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _resume_point(self) -> Tuple[int, Optional[dict]]:
        """``(batches of the current epoch already trained, generator state
        to restore)`` after a resume; ``(0, None)`` for a fresh run."""
        if self._iter == 0:
            return 0, None
        num_batches = len(self.dataloader)
        state = _checked_state(
            self.runner.message_hub.get_info(RESUME_STATE_KEY))
        if state is None or state['iter'] != self._iter:
            # A checkpoint of another loop: place it by its counters.
            done = self._iter - self._epoch * num_batches
            print_log(
                f'The checkpoint resumed at iteration {self._iter} was not '
                'written by ExactResumeEpochBasedTrainLoop: the random '
                'generators continue as seeded, so augmentations differ '
                'from an uninterrupted run.',
                logger='current',
                level=logging.WARNING)
            return (done if 0 <= done <= num_batches else 0), None
        check_resume_settings(
            state.get('settings'), self.runner, self.dataloader,
            f"after batch {state['batches_done']} of {state['epoch_length']}"
            f' of epoch {state["epoch"] + 1}', self._configured)
        state['rng'] = validated_rng_state(state['rng'],
                                           f'{_STATE_PATH}.rng')
        if state['epoch'] < self._epoch:
            return 0, state['rng']  # saved once its epoch had ended
        if state['batches_done'] == state['epoch_length']:
            return num_batches, state['rng']  # epoch trained, end pending
        if state['epoch_length'] != num_batches:
            raise RuntimeError(
                f'Cannot resume mid-epoch: the checkpoint was written after '
                f"batch {state['batches_done']} of {state['epoch_length']} "
                f'of epoch {self._epoch + 1}, but this run has '
                f'{num_batches} batches per epoch (another dataset, batch '
                'size or number of GPUs). Resume with the same ones, or from '
                'a checkpoint written at the end of an epoch.')
        return state['batches_done'], state['rng']


def _checked_state(state) -> Optional[dict]:
    """The saved position with its counters proven plain ints (it comes
    from the checkpoint; the generator state is checked on its own)."""
    if state is None:
        return None
    if type(state) is not dict:
        raise CorruptCheckpointStateError(_STATE_PATH, 'a dict',
                                          type_name(state))
    for name in ('iter', 'epoch', 'batches_done', 'epoch_length'):
        value = state.get(name)
        if type(value) is not int or value < 0:
            raise CorruptCheckpointStateError(
                f'{_STATE_PATH}.{name}', 'an int >= 0',
                'a negative int' if type(value) is int else
                type_name(value))
    return dict(state)
