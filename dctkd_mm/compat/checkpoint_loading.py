"""The one safe checkpoint reader, and MMEngine's loaders routed to it.

:func:`load_checkpoint_file` reads a checkpoint from a local path, an
``http(s)://`` URL (downloaded once into torch.hub's cache, as
``torch.hub.load_state_dict_from_url`` does) or any MMEngine fileio
backend (``s3://``, ``petrel://``, ...), always through
:func:`~.safe_load.safe_torch_load`: zip CRCs and pickle nesting checked
first, PyTorch's safe unpickler with our stand-ins visible to this thread
only, and the result proven plain. Its errors name the source:

* a refused global (a pickled ``os.system`` call, a ``getattr`` chain, a
  forged NumPy array) raises :class:`UnsafeCheckpointError`, warning
  *against* the ``weights_only=False`` retry PyTorch's message suggests;
* data that is not plain (an object carrying attributes, nesting deeper
  than 100 levels, a NumPy array of objects) raises
  :class:`UnsafeCheckpointError` too;
* a truncated, corrupt or otherwise unreadable file (a run killed while
  saving, an HTML error page, a record failing its CRC) raises
  :class:`CheckpointReadError`.

``compat.apply`` registers it for every scheme MMEngine 0.10.7's
``CheckpointLoader`` knows (see :mod:`.checkpoint_schemes`), which
``load_from``, ``--resume``, ``teacher_ckpt``, ``init_cfg=dict(
type='Pretrained')`` and the export and converter tools all go through.
"""
import io
import os.path as osp
import pickle
import re
from typing import Callable, Optional, Union

from .downloads import (CheckpointDownloadError, cached_download,
                        is_file_url, is_url)
from .numpy_unpickling import UnsafeDataError
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
                    UnsafeDataError.PREFIX + r'([^\n]+?)(?:\n|$)',
                    r'unrecognized function (.+?)(?: which|$)',
                    r'(?:new object|build)[^\n]*but got (.+)$'):
        match = re.search(pattern, message, re.MULTILINE)
        if match:
            return match.group(1)
    return None


def _local_or_buffer(source: str, backend_args: Optional[dict]):
    """A path or an in-memory file to hand to ``torch.load``."""
    if is_url(source) or is_file_url(source):
        return cached_download(source)  # file://: its local path
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
    """Read the checkpoint ``source`` (a path, an ``http(s)://`` or
    ``file://`` URL, or a URI of any MMEngine fileio backend) safely;
    return what it holds: tensors, plain containers and numbers, NumPy
    arrays of plain numbers and ``HistoryBuffer`` objects, each proven so
    (see :mod:`.plain_data`)."""
    source = str(source)
    where = source
    try:
        file = _local_or_buffer(source, backend_args)
        if isinstance(file, str) and file != source:
            how = 'the file' if is_file_url(source) else 'cached as'
            where = f'{source} ({how} {file})'
        return safe_torch_load(file, where, map_location=map_location)
    except UnsafeDataError as exc:
        raise UnsafeCheckpointError(
            f"Refusing to load checkpoint '{where}': {exc}. "
            f'{_DO_NOT_BYPASS}') from None
    except pickle.UnpicklingError as exc:
        refused = _refused_global(str(exc))
        if refused is None:
            raise CheckpointReadError(_read_error(where, exc)) from None
        raise UnsafeCheckpointError(
            f"Refusing to load checkpoint '{where}': it asks the "
            f'unpickler for `{_bounded(refused)}`, which safe loading does '
            f'not build. {_DO_NOT_BYPASS} (PyTorch: '
            f'{_bounded(_torch_detail(str(exc)))})') from None
    except (FileNotFoundError, IsADirectoryError, PermissionError,
            CheckpointDownloadError):
        raise  # they name the file or URL and say what went wrong
    except RuntimeError as exc:
        if 'Attempting to deserialize object on' in str(exc):
            raise  # a map_location the machine cannot honour, not the file
        raise CheckpointReadError(_read_error(where, exc)) from None
    except Exception as exc:
        # Whatever a malformed file makes torch.load, zipfile or
        # pickletools raise (OverflowError, ValueError, TypeError,
        # AttributeError, BadZipFile, ...): a named read error.
        raise CheckpointReadError(_read_error(where, exc)) from None


def _bounded(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + '...'


def _read_error(where: str, exc: BaseException) -> str:
    detail = _bounded(_torch_detail(str(exc))) or type(exc).__name__
    return (f"Cannot read checkpoint '{where}': the file is truncated, "
            'corrupt (a record fails its CRC check), inconsistent (its '
            'tensors do not fit their storages: a damaged or crafted file) '
            'or not a PyTorch checkpoint. If a run was killed while saving '
            'it, resume from the previous checkpoint instead. '
            f'({type(exc).__name__}: {detail})')
