"""Load checkpoint files safely, with errors that name the file.

Every local checkpoint MMEngine loads (``load_from``, ``--resume``,
``teacher_ckpt`` through ``load_checkpoint``, ``init_cfg=dict(
type='Pretrained')``, ``tools/export_student.py``) goes through
``CheckpointLoader``'s scheme for plain paths. :func:`install` replaces
that scheme with :func:`load_from_local_file`: the same ``torch.load``
with the same safe (``weights_only``) unpickler, plus two things PyTorch's
errors lack:

* a refused global (a pickled ``os.system`` call, a ``getattr`` chain)
  raises :class:`UnsafeCheckpointError` naming the file and the global,
  and warning *against* the ``weights_only=False`` retry PyTorch's own
  message suggests;
* a truncated or otherwise unreadable file (a run killed while saving)
  raises :class:`CheckpointReadError` naming the file.

URLs and other schemes keep MMEngine's loaders (``torch.hub``'s safe
``torch.load``; PyTorch's message).
"""
import os.path as osp
import pickle
import re
from typing import Callable, Optional, Union

import torch

#: What to tell a user whose checkpoint was refused.
_DO_NOT_BYPASS = (
    'Checkpoints written by MMEngine, MMPretrain and MMRazor runners hold '
    'only tensors, plain containers and a few allowlisted types (see '
    'dctkd_mm/compat/safe_load.py), so this file was written by other code '
    'or tampered with. Do not retry with torch.load(weights_only=False) '
    'unless you fully trust where the file came from: unpickling it can run '
    'arbitrary code.')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asks the unpickler for a global safe loading refuses."""


class CheckpointReadError(OSError):
    """A checkpoint file is truncated, corrupt or not a checkpoint.

    An ``OSError`` like Pillow's truncated-image error, and deliberately
    not the ``RuntimeError`` of a state-dict mismatch: code reporting "the
    checkpoint does not match the model" must not catch a broken file.
    """


def _torch_detail(message: str) -> str:
    """PyTorch's explanation without its paragraphs about
    ``weights_only`` (which suggest turning safe loading off)."""
    kept = [
        p.strip() for p in re.split(r'\n\s*\n', message)
        if p.strip() and 'weights_only' not in p
        and not p.strip().startswith('Check the documentation')
    ]
    return ' '.join(kept) or message.strip()


def _refused_global(message: str) -> Optional[str]:
    """The global named in a safe-unpickler refusal, or None when the error
    is not a refusal (e.g. truncated pickle data)."""
    match = re.search(r'GLOBAL ([\w.]+)', message)
    if match:
        return match.group(1)
    match = re.search(r'asks for (getattr\(.*?\))', message)
    if match:
        return match.group(1)
    return None


def load_checkpoint_file(filename: str,
                         map_location: Union[str, Callable, None] = None):
    """``torch.load(filename)`` with safe loading, naming ``filename`` in
    every failure to unpickle or read it."""
    # weights_only is explicit so an environment forcing the unsafe default
    # (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD) cannot turn it off here. PyTorch
    # before 2.4 cannot allowlist MMEngine's types; use its default there.
    kwargs = {}
    if hasattr(torch.serialization, 'add_safe_globals'):
        kwargs['weights_only'] = True
    try:
        return torch.load(filename, map_location=map_location, **kwargs)
    except pickle.UnpicklingError as exc:
        refused = _refused_global(str(exc))
        if refused is None:
            raise CheckpointReadError(_read_error(filename, exc)) from exc
        raise UnsafeCheckpointError(
            f"Refusing to load checkpoint '{filename}': it asks the "
            f'unpickler for `{refused}`, which safe loading does not '
            f'build. {_DO_NOT_BYPASS} (PyTorch: {_torch_detail(str(exc))})'
        ) from None
    except (EOFError, KeyError, RuntimeError) as exc:
        # torch.load raises these for truncated or foreign files (EOF in a
        # legacy file, a zip without its central directory, a bad magic
        # number). Other RuntimeErrors (e.g. map_location) pass unchanged.
        if isinstance(exc, RuntimeError) and not _looks_unreadable(exc):
            raise
        raise CheckpointReadError(_read_error(filename, exc)) from exc


def _looks_unreadable(exc: RuntimeError) -> bool:
    text = str(exc)
    return any(s in text for s in ('PytorchStreamReader', 'unexpected EOF',
                                   'corrupted', 'Invalid magic number',
                                   'invalid load key'))


def _read_error(filename: str, exc: BaseException) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return (f"Cannot read checkpoint '{filename}': the file is truncated, "
            'corrupt or not a PyTorch checkpoint. A run killed while saving '
            'leaves such a file; resume from the previous checkpoint '
            f'instead. ({type(exc).__name__}: {detail})')


def load_from_local_file(filename: str,
                          map_location: Union[str, Callable, None] = None):
    """MMEngine's ``load_from_local`` with :func:`load_checkpoint_file`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f"checkpoint '{filename}' does not exist.")
    return load_checkpoint_file(filename, map_location=map_location)


def install() -> None:
    """Make :func:`load_from_local_file` MMEngine's loader for plain
    paths (idempotent)."""
    # Import first: mmengine registers its own '' scheme at import time and
    # would refuse to once ours is there.
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_file, force=True)
