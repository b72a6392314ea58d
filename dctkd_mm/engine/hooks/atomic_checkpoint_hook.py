"""A ``CheckpointHook`` that never leaves the work dir without a usable
checkpoint, and writes checkpoints that hold no NumPy data.

MMEngine 0.10.7's ``CheckpointHook`` writes each checkpoint in place and
deletes the oldest one (``max_keep_ckpts``) *before* writing the new one,
so with ``max_keep_ckpts=1`` a kill during the save leaves only a
truncated file; it also truncates ``last_checkpoint`` before writing it,
so a kill there leaves an empty file that auto-resume reads as the
checkpoint ``''``. :class:`AtomicCheckpointHook`:

* writes every regular checkpoint (and ``last_checkpoint``) to a hidden
  temporary name and renames it into place (atomic on a local disk), and
  deletes outdated checkpoints only after the new one is complete;
* before an auto-resume (``resume=True`` without a file), replaces an
  empty, dangling or unreadable ``last_checkpoint`` by the newest readable
  checkpoint in the work dir, saying so;
* stores the message hub without NumPy arrays or ``HistoryBuffer``
  objects and, between two steps of a gradient accumulation, the
  gradients accumulated so far (see
  :mod:`dctkd_mm.engine.runner.checkpoint_contents`), and restores both
  on resume.
"""
import glob
import logging
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.dist import barrier, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.compat.checkpoint_integrity import verified_checkpoint
from ..runner.checkpoint_contents import (PARTIAL_ACCUMULATION_KEY,
                                          partial_accumulation,
                                          plain_message_hub,
                                          restore_message_hub,
                                          restore_partial_accumulation)


def _write_atomically(path: str, text: str) -> None:
    tmp = osp.join(osp.dirname(path), f'.{osp.basename(path)}.partial')
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _readable(path: str) -> bool:
    """``path`` is a complete checkpoint: every zip record passes its CRC
    check (the reader's own check, :func:`verified_checkpoint`), or a
    legacy file loads."""
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        with open(path, 'rb') as f:
            # torch.load's own test for its zip format (a legacy file with
            # a zip appended is no zip to it).
            is_zip = f.read(4) == b'PK\x03\x04'
        if is_zip:
            verified_checkpoint(path, path)
        else:
            load_checkpoint_file(path)
        return True
    except Exception:  # any failure means: not usable for resuming
        return False


def _step(path: str) -> int:
    match = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(match.group(1)) if match else -1


def newest_readable_checkpoint(work_dir: str) -> Optional[str]:
    """The newest regular checkpoint (``epoch_N`` / ``iter_N``) in
    ``work_dir`` that is complete, by modification time then step."""
    found: List[str] = [
        p for p in glob.glob(osp.join(work_dir, '*.pth'))
        if re.fullmatch(r'(epoch|iter)_\d+\.pth', osp.basename(p))
    ]
    found.sort(key=lambda p: (osp.getmtime(p), _step(p)), reverse=True)
    return next((p for p in found if _readable(p)), None)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) with atomic saves, deletion
    after saving, a ``last_checkpoint`` fallback and NumPy-free
    checkpoints."""

    priority = 'VERY_LOW'

    def before_run(self, runner) -> None:
        super().before_run(runner)
        if runner._resume and runner._load_from is None:
            if is_main_process():
                self._repair_last_checkpoint(runner.work_dir)
            barrier()  # other ranks read last_checkpoint after the repair

    @staticmethod
    def _repair_last_checkpoint(work_dir: str) -> None:
        save_file = osp.join(work_dir, 'last_checkpoint')
        if not osp.exists(save_file):
            return  # nothing saved yet (MMEngine starts afresh)
        with open(save_file) as f:
            target = f.read().strip()
        if target and _readable(target):
            return
        problem = ('is empty' if not target else
                   f"points to '{target}', which is missing or unreadable")
        fallback = newest_readable_checkpoint(work_dir)
        if fallback is None:
            raise FileNotFoundError(
                f"'{save_file}' {problem}, and '{work_dir}' holds no "
                'readable epoch_N.pth / iter_N.pth checkpoint to resume '
                'from. Start without --resume, or pass --resume FILE.')
        print_log(
            f"'{save_file}' {problem}: resuming from the newest readable "
            f"checkpoint in the work dir, '{fallback}', instead.",
            logger='current', level=logging.WARNING)
        _write_atomically(save_file, fallback)

    # --- saving -----------------------------------------------------------

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not isinstance(self.file_backend, LocalBackend):
            # No rename on object stores; MMEngine's behaviour.
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        partial = f'.{ckpt_filename}.partial'
        runner.save_checkpoint(
            self.out_dir, partial, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        os.replace(osp.join(self.out_dir, partial), self.last_ckpt)
        _write_atomically(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old in outdated:  # only now that the new one is complete
            path = osp.join(self.out_dir, self.filename_tmpl.format(old))
            if osp.isfile(path):
                os.remove(path)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        super().before_save_checkpoint(runner, checkpoint)
        partial = partial_accumulation(runner)
        if partial is not None:
            checkpoint[PARTIAL_ACCUMULATION_KEY] = partial
        plain_message_hub(checkpoint)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        super().after_load_checkpoint(runner, checkpoint)
        restore_message_hub(checkpoint)
        partial = checkpoint.get(PARTIAL_ACCUMULATION_KEY)
        if partial is not None and runner._resume:
            restore_partial_accumulation(runner, partial)
