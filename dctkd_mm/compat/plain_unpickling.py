"""Unpickle plain data files (not checkpoints) without letting them run
code: only plain containers and validated NumPy arrays come out.

Some dataset formats are pickles (CIFAR-10/100's ``data_batch_*``,
``batches.meta``); MMPretrain reads them with plain ``pickle.loads``, which
calls whatever global the file names (``os.system`` ...). Here
:class:`PlainUnpickler` resolves a global only if it is one of the NumPy
names :func:`~.numpy_unpickling.unpickler_stand_ins` covers (mapped to the
stand-ins, which only record what the file asks for) or ``_codecs.encode``
as protocol 2 writes ``bytes`` (only to latin-1); every other global is
refused before it is called, naming the file and the global. Before
loading, the opcode stream is scanned for deep nesting
(:mod:`.pickle_nesting`); after, :func:`~.plain_data.to_plain_data`
proves the result plain and builds every recorded array (plain number
dtype, exact data size).

Checkpoints do not come here: they go through ``load_checkpoint_file``
(``torch.load(weights_only=True)`` with the same stand-ins).
"""
import io
import pickle
from typing import Any, Callable, Dict

from .describe import describe
from .numpy_unpickling import UnsafeDataError, unpickler_stand_ins
from .pickle_nesting import check_pickle_bytes
from .plain_data import MAX_NESTING, to_plain_data


class UnsafePickleError(pickle.UnpicklingError):
    """A data file names a global outside the plain-data allowlist, holds
    NumPy data that is not plain numbers, or is not a readable pickle."""


def _latin1_bytes(text=None, encoding=None) -> bytes:
    """Stands for ``_codecs.encode``: protocol 2 pickles ``bytes`` as
    ``_codecs.encode(text, 'latin1')``. Any other codec is refused (codec
    lookup can import modules)."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1'):
        raise UnsafePickleError(
            f'_codecs.encode({describe(text)}, {describe(encoding)}): only '
            "_codecs.encode(str, 'latin1') (protocol 2 bytes) is allowed")
    return text.encode('latin1')


def plain_globals() -> Dict[str, Callable]:
    """``{'module.name': stand-in}``: every global a plain data pickle may
    name."""
    allowed = {name: stand_in for stand_in, name in unpickler_stand_ins()}
    allowed['_codecs.encode'] = _latin1_bytes
    return allowed


class PlainUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only
    :func:`plain_globals` (use :func:`load_plain_pickle`, which also
    validates the NumPy data and names the file in every error).

    Persistent ids (``persistent_load``) and out-of-band buffers stay
    unsupported (the base class refuses them); copyreg extension codes go
    through ``find_class`` too."""

    def __init__(self, file, encoding: str = 'ASCII') -> None:
        super().__init__(file, encoding=encoding)
        self._allowed = plain_globals()

    def find_class(self, module: str, name: str) -> Any:
        key = f'{module}.{name}'
        if key in self._allowed:
            return self._allowed[key]
        raise UnsafePickleError(
            f'refused to load the global {describe(key)}; this file '
            'may only hold plain containers (dict, list, tuple, str, bytes, '
            'numbers) and NumPy arrays of plain numbers. A genuine data '
            'file never names it: the file was tampered with or is not '
            'what it claims to be. Do not read it with plain pickle.')


def load_plain_pickle(data: bytes, source: str,
                      encoding: str = 'ASCII') -> Any:
    """Unpickle ``data`` (the bytes of the file ``source``) with
    :class:`PlainUnpickler` and turn the NumPy records into validated
    arrays. ``encoding`` decodes Python 2 ``str`` as in ``pickle.loads``
    (``'latin1'`` for NumPy data written by Python 2).

    Raises :class:`UnsafePickleError` naming ``source`` for a refused
    global, non-plain NumPy data or an unreadable pickle."""
    try:
        check_pickle_bytes(data, source, MAX_NESTING)
        obj = PlainUnpickler(io.BytesIO(data), encoding=encoding).load()
        return to_plain_data(obj)
    except (UnsafePickleError, UnsafeDataError) as exc:
        raise UnsafePickleError(f'{source}: {exc}') from None
    except Exception as exc:
        # A malformed opcode stream (pickle.UnpicklingError, EOFError,
        # ValueError, ...); the stand-ins raise TypeError for calls with
        # the wrong arguments.
        detail = str(exc)
        raise UnsafePickleError(
            f'{source}: not a readable plain-data pickle '
            f'({type(exc).__name__}: {detail[:200]})') from None


__all__ = [
    'PlainUnpickler', 'UnsafePickleError', 'load_plain_pickle',
    'plain_globals'
]
