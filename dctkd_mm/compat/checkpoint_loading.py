"""The one safe checkpoint reader, and MMEngine's loaders routed to it.

:func:`load_checkpoint_file` reads a checkpoint from a local path, an
``http(s)://`` URL (downloaded once into torch.hub's cache, as
``torch.hub.load_state_dict_from_url`` does) or any MMEngine fileio
backend (``s3://``, ``petrel://``, ...), always with PyTorch's safe
unpickler and the allowlist of :mod:`.safe_load` in context only. Its
errors name the source:

* a refused global (a pickled ``os.system`` call, a ``getattr`` chain, a
  forged NumPy array) raises :class:`UnsafeCheckpointError`, warning
  *against* the ``weights_only=False`` retry PyTorch's message suggests;
* a truncated or otherwise unreadable file (a run killed while saving, an
  HTML error page) raises :class:`CheckpointReadError`.

:func:`install` registers it for every scheme MMEngine 0.10.7's
``CheckpointLoader`` knows (see :mod:`.checkpoint_schemes`), which
``load_from``, ``--resume``, ``teacher_ckpt``, ``init_cfg=dict(
type='Pretrained')`` and the export and converter tools all go through.
"""
import io
import os
import os.path as osp
import pickle
import re
from typing import Callable, Optional, Union

import torch

from .downloads import cached_download, is_url
from .numpy_unpickling import UnsafeNumpyData
from .safe_load import safe_torch_load

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
    for pattern in (r'GLOBAL ([\w.]+)', r'asks for (getattr\(.*?\))',
                    UnsafeNumpyData.PREFIX + r'([^\n]+?)(?:\n|$)',
                    r'unrecognized function (.+?)(?: which|$)',
                    r'(?:new object|build)[^\n]*but got (.+)$'):
        match = re.search(pattern, message, re.MULTILINE)
        if match:
            return match.group(1)
    return None


def _local_or_buffer(source: str, backend_args: Optional[dict]):
    """A path or an in-memory file to hand to ``torch.load``."""
    if is_url(source):
        return cached_download(source)
    from mmengine.fileio import get_file_backend
    from mmengine.fileio.backends import LocalBackend
    backend = get_file_backend(source, backend_args=backend_args)
    if isinstance(backend, LocalBackend):
        path = osp.expanduser(source)
        if not osp.isfile(path):
            raise FileNotFoundError(f"checkpoint '{source}' does not exist.")
        return path
    return io.BytesIO(backend.get(source))


def load_checkpoint_file(source: str,
                         map_location: Union[str, Callable, None] = 'cpu',
                         backend_args: Optional[dict] = None):
    """Read the checkpoint ``source`` (a path, an ``http(s)://`` URL, or a
    URI of any MMEngine fileio backend) safely; return what it holds
    (tensors and plain containers; NumPy data validated)."""
    source = str(source)
    where = source
    try:
        file = _local_or_buffer(source, backend_args)
        if isinstance(file, str) and file != source:
            where = f'{source} (cached as {file})'
        return safe_torch_load(file, map_location=map_location)
    except UnsafeNumpyData as exc:
        raise UnsafeCheckpointError(
            f"Refusing to load checkpoint '{where}': {exc}. "
            f'{_DO_NOT_BYPASS}') from None
    except pickle.UnpicklingError as exc:
        refused = _refused_global(str(exc))
        if refused is None:
            raise CheckpointReadError(_read_error(where, exc)) from exc
        raise UnsafeCheckpointError(
            f"Refusing to load checkpoint '{where}': it asks the "
            f'unpickler for `{refused}`, which safe loading does not '
            f'build. {_DO_NOT_BYPASS} (PyTorch: {_torch_detail(str(exc))})'
        ) from None
    except (EOFError, KeyError, RuntimeError) as exc:
        # torch.load raises these for truncated or foreign files (EOF in a
        # legacy file, a zip without its central directory, a bad magic
        # number). Other RuntimeErrors (e.g. map_location) pass unchanged.
        if isinstance(exc, RuntimeError) and not _looks_unreadable(exc):
            raise
        raise CheckpointReadError(_read_error(where, exc)) from exc


def _looks_unreadable(exc: RuntimeError) -> bool:
    text = str(exc)
    return any(s in text for s in ('PytorchStreamReader', 'unexpected EOF',
                                   'corrupted', 'Invalid magic number',
                                   'invalid load key'))


def _read_error(where: str, exc: BaseException) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return (f"Cannot read checkpoint '{where}': the file is truncated, "
            'corrupt or not a PyTorch checkpoint. A run killed while saving '
            'leaves such a file; resume from the previous checkpoint '
            f'instead. ({type(exc).__name__}: {detail})')
