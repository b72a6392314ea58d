"""Read NumPy arrays and scalars from checkpoints without letting the
file build them.

Allowlisting NumPy's own ``_reconstruct``, ``scalar`` and ``dtype`` for
``torch.load(weights_only=True)`` is unsafe: a crafted file can rebuild a
``dtype`` whose void type hides an object field (with the flags cleared so
NumPy believes it holds none) and fill an array of it with raw bytes, which
NumPy then uses as object pointers (memory corruption, SIGSEGV or worse).
PyTorch leaves those functions off its defaults for that reason.

So the unpickler gets *stand-ins* registered under NumPy's names: they
only record what the file asks for. :func:`~.plain_data.to_plain_data`
then walks the loaded object and replaces every record by a real array or
scalar (``build``), after checking that its dtype is a plain number type
(bool, signed/unsigned int, float, complex; no fields, no sub-array, no
object, no void, no string), that the shape has at most 32 dimensions and
that the raw data has exactly the size the shape needs. The
dtype is built from its type code and byte order alone, never from the
file's ``__setstate__`` (the part that carries fields and flags).
"""
import pickle
from typing import Any, Callable, List, Tuple

import numpy as np

from .describe import describe

#: Type codes of the dtypes a checkpoint may hold (numpy's ``dtype.str``
#: without the byte-order character).
PLAIN_NUMERIC_CODES = frozenset(
    ['b1'] + [f'{k}{n}' for k in 'iu' for n in (1, 2, 4, 8)] +
    [f'f{n}' for n in (2, 4, 8, 16)] + [f'c{n}' for n in (8, 16, 32)])
#: Largest element count an array read from a file may claim: the byte
#: count is compared in Python ints before NumPy sees any of it.
_MAX_ELEMENTS = 2**48
#: Most dimensions an array read from a file may have (NumPy 1.x's limit;
#: it also bounds the shape shown in messages).
_MAX_DIMS = 32


class UnsafeDataError(pickle.UnpicklingError):
    """A file holds data that is not plain (a type outside the plain set,
    an object carrying instance attributes, nesting deeper than allowed,
    a cycle) or malformed NumPy data."""

    #: Starts every message, so the refusal is recognised after PyTorch
    #: re-raised it as a plain UnpicklingError during unpickling.
    PREFIX = 'unsafe data: '

    def __init__(self, message: str) -> None:
        super().__init__(self.PREFIX + message)


class UnsafeNumpyData(UnsafeDataError):
    """A NumPy array or scalar that is not plain numbers (object or void
    fields, strings) or is malformed."""


class _PendingDtype:
    """What ``numpy.dtype(code, align, copy)`` + its state asked for."""
    __slots__ = ('code', 'state')

    def __init__(self, code=None, *_flags) -> None:
        self.code, self.state = code, None

    def __setstate__(self, state) -> None:
        self.state = state

    def build(self) -> np.dtype:
        # NEWOBJ creates the stand-in without __init__: slots may be unset.
        code, state = getattr(self, 'code', None), getattr(self, 'state', None)
        if type(code) is not str or code not in PLAIN_NUMERIC_CODES:
            raise UnsafeNumpyData(
                f'NumPy dtype {describe(code)}: checkpoints may only hold '
                'arrays of plain numbers (bool, int, uint, float, complex); '
                'object, void, structured and string dtypes are refused '
                'because their pickled form can forge object pointers')
        order = '='
        if state is not None:
            if not (type(state) is tuple and len(state) >= 5
                    and state[2] is None and state[3] is None
                    and state[4] is None):
                raise UnsafeNumpyData(
                    f'NumPy dtype {code!r} comes with fields, names or a '
                    f'sub-array in its pickled state ({describe(state)}); '
                    'a plain number dtype has none')
            order = state[1]
            if type(order) is not str or order not in ('<', '>', '|', '='):
                raise UnsafeNumpyData(
                    f'NumPy dtype {code!r}: bad byte order {describe(order)}')
        return np.dtype(code).newbyteorder(
            order if order in '<>' else '=')


class _NdarrayType:
    """Stands for the class ``numpy.ndarray`` inside the unpickler."""


def _as_raw_bytes(raw) -> bytes:
    if type(raw) is str and max(raw, default='\0') <= '\xff':
        # Python 2 wrote the data as ``str``; read with
        # encoding='latin1' (CIFAR's files) it comes back as text.
        # NumPy's own __setstate__ encodes it back the same way.
        return raw.encode('latin1')
    if type(raw) not in (bytes, bytearray):
        raise UnsafeNumpyData(
            f'NumPy data given as {describe(raw)}, not raw bytes (a list of '
            'objects); only plain number arrays are allowed')
    return bytes(raw)


class _PendingArray:
    """What ``_reconstruct(ndarray, (0,), b'b')`` + ``__setstate__`` asked
    for."""
    __slots__ = ('state', )

    def __init__(self) -> None:
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state

    def build(self, dtype_of: Callable) -> np.ndarray:
        state = getattr(self, 'state', None)
        if not (type(state) is tuple and len(state) == 5):
            raise UnsafeNumpyData(
                f'NumPy array with malformed pickled state {describe(state)}')
        _, shape, dtype, is_fortran, raw = state
        dtype = dtype_of(dtype)
        if not (type(shape) is tuple and len(shape) <= _MAX_DIMS and all(
                type(n) is int and 0 <= n <= _MAX_ELEMENTS for n in shape)):
            raise UnsafeNumpyData(
                f'NumPy array with bad shape {describe(shape)}: expected a '
                f'tuple of at most {_MAX_DIMS} non-negative ints')
        nonzero = 1
        for n in shape:  # NumPy refuses a shape this large even when empty
            nonzero *= max(n, 1)
        if nonzero > _MAX_ELEMENTS:
            raise UnsafeNumpyData(
                f'NumPy array of shape {shape}: more than {_MAX_ELEMENTS} '
                'elements')
        if type(is_fortran) is not bool:
            raise UnsafeNumpyData(
                f'NumPy array whose order flag is {describe(is_fortran)}')
        raw = _as_raw_bytes(raw)
        count = 1
        for n in shape:
            count *= n
        if len(raw) != count * dtype.itemsize:
            raise UnsafeNumpyData(
                f'NumPy array of shape {shape} and dtype {dtype} needs '
                f'{count * dtype.itemsize} bytes, the file holds {len(raw)}')
        flat = np.frombuffer(raw, dtype=dtype).copy()
        return flat.reshape(shape, order='F' if is_fortran else 'C')


class _PendingScalar:
    """What ``numpy.core.multiarray.scalar(dtype, raw)`` asked for."""
    __slots__ = ('dtype', 'raw')

    def __init__(self, dtype=None, raw=None) -> None:
        self.dtype, self.raw = dtype, raw

    def __setstate__(self, state) -> None:
        raise UnsafeNumpyData('a NumPy scalar never carries pickled state')

    def build(self, dtype_of: Callable):
        dtype = dtype_of(getattr(self, 'dtype', None))
        raw = _as_raw_bytes(getattr(self, 'raw', None))
        if len(raw) != dtype.itemsize:
            raise UnsafeNumpyData(
                f'NumPy scalar of dtype {dtype} needs {dtype.itemsize} bytes, '
                f'the file holds {len(raw)}')
        return np.frombuffer(raw, dtype=dtype)[0]


def _reconstruct(subtype, shape, code) -> _PendingArray:
    if subtype is not _NdarrayType or type(shape) is not tuple or \
            shape != (0, ):
        raise UnsafeNumpyData(
            f'numpy _reconstruct({describe(subtype)}, {describe(shape)}, '
            '...): only plain numpy.ndarray is allowed')
    return _PendingArray()


def _empty_bytes(*args) -> bytes:
    """Protocol 2 pickles ``b''`` (the data of an empty array) as
    ``bytes()``; other bytes come through ``_codecs.encode``."""
    if args:
        raise UnsafeNumpyData('bytes(...) with arguments: only bytes() is '
                              'allowed')
    return b''


def unpickler_stand_ins() -> List[Tuple[Callable, str]]:
    """``(stand-in, pickled name)`` pairs for ``safe_globals``: every name
    NumPy 1.x and 2.x pickle arrays, scalars and dtypes by."""
    entries = [(_NdarrayType, 'numpy.ndarray'), (_PendingDtype, 'numpy.dtype'),
               (_empty_bytes, 'builtins.bytes'),
               (_empty_bytes, '__builtin__.bytes')]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries.append((_reconstruct, module + '._reconstruct'))
        entries.append((_PendingScalar, module + '.scalar'))
    dtypes = getattr(np, 'dtypes', None)
    for name in dir(dtypes) if dtypes is not None else ():
        cls = getattr(dtypes, name)
        if isinstance(cls, type) and issubclass(cls, np.dtype):
            entries.append((_PendingDtype, 'numpy.dtypes.' + name))
    # The pending types must be allowlisted for BUILD to reach their
    # __setstate__; under private names a file cannot use otherwise.
    entries.append((_PendingArray, __name__ + '._PendingArray'))
    return entries


def build_numpy_record(value: Any, dtype_of: Callable) -> Any:
    """The real array / scalar / dtype a stand-in recorded (validated)."""
    if type(value) is _PendingDtype:
        return dtype_of(value)
    return value.build(dtype_of)


#: The stand-in types :func:`build_numpy_record` turns into NumPy data.
NUMPY_RECORD_TYPES = (_PendingArray, _PendingScalar, _PendingDtype)
