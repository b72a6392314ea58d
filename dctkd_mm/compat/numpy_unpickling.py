"""Read NumPy arrays and scalars from checkpoints without letting the
file build them.

Allowlisting NumPy's own ``_reconstruct``, ``scalar`` and ``dtype`` for
``torch.load(weights_only=True)`` is unsafe: a crafted file can rebuild a
``dtype`` whose void type hides an object field (with the flags cleared so
NumPy believes it holds none) and fill an array of it with raw bytes, which
NumPy then uses as object pointers (memory corruption, SIGSEGV or worse).
PyTorch leaves those functions off its defaults for that reason.

So the unpickler gets *stand-ins* registered under NumPy's names: they
only record what the file asks for. :func:`restore_numpy` then walks the
loaded object and replaces every record by a real array or scalar, after
checking that its dtype is a plain number type (bool, signed/unsigned
int, float, complex; no fields, no sub-array, no object, no void, no
string) and that the raw data has exactly the size the shape needs. The
dtype is built from its type code and byte order alone, never from the
file's ``__setstate__`` (the part that carries fields and flags).
"""
import pickle
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

#: Type codes of the dtypes a checkpoint may hold (numpy's ``dtype.str``
#: without the byte-order character).
PLAIN_NUMERIC_CODES = frozenset(
    ['b1'] + [f'{k}{n}' for k in 'iu' for n in (1, 2, 4, 8)] +
    [f'f{n}' for n in (2, 4, 8, 16)] + [f'c{n}' for n in (8, 16, 32)])


class UnsafeNumpyData(pickle.UnpicklingError):
    """A checkpoint holds a NumPy array or scalar that is not plain
    numbers (object or void fields, strings) or is malformed."""

    #: Starts every message, so the refusal is recognised after PyTorch
    #: re-raised it as a plain UnpicklingError during unpickling.
    PREFIX = 'unsafe NumPy data: '

    def __init__(self, message: str) -> None:
        super().__init__(self.PREFIX + message)


class _PendingDtype:
    """What ``numpy.dtype(code, align, copy)`` + its state asked for."""

    def __init__(self, code=None, align=False, copy=False, *rest):
        self.code, self.rest = code, (align, copy) + rest
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state

    def build(self) -> np.dtype:
        code, state = self.code, self.state
        if not isinstance(code, str) or code not in PLAIN_NUMERIC_CODES:
            raise UnsafeNumpyData(
                f'NumPy dtype {code!r}: checkpoints may only hold arrays of '
                'plain numbers (bool, int, uint, float, complex); object, '
                'void, structured and string dtypes are refused because '
                'their pickled form can forge object pointers')
        order = '='
        if state is not None:
            if not (isinstance(state, tuple) and len(state) >= 5
                    and state[2] is None and state[3] is None
                    and state[4] is None):
                raise UnsafeNumpyData(
                    f'NumPy dtype {code!r} comes with fields, names or a '
                    f'sub-array in its pickled state ({state!r:.200}); a '
                    'plain number dtype has none')
            order = state[1]
            if order not in ('<', '>', '|', '='):
                raise UnsafeNumpyData(
                    f'NumPy dtype {code!r}: bad byte order {order!r}')
        return np.dtype(code).newbyteorder(
            order if order in '<>' else '=')


class _NdarrayType:
    """Stands for the class ``numpy.ndarray`` inside the unpickler."""


class _PendingArray:
    """What ``_reconstruct(ndarray, (0,), b'b')`` + ``__setstate__`` asked
    for."""

    def __init__(self) -> None:
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state

    def build(self, dtype_of: Callable) -> np.ndarray:
        state = self.state
        if not (isinstance(state, tuple) and len(state) == 5):
            raise UnsafeNumpyData(
                f'NumPy array with malformed pickled state {state!r:.200}')
        _, shape, dtype, is_fortran, raw = state
        dtype = dtype_of(dtype)
        if not (isinstance(shape, tuple) and all(
                isinstance(n, int) and n >= 0 for n in shape)):
            raise UnsafeNumpyData(f'NumPy array with bad shape {shape!r}')
        if isinstance(raw, str) and max(raw, default='\0') <= '\xff':
            # Python 2 wrote the data as ``str``; read with
            # encoding='latin1' (CIFAR's files) it comes back as text.
            # NumPy's own __setstate__ encodes it back the same way.
            raw = raw.encode('latin1')
        if not isinstance(raw, (bytes, bytearray)):
            raise UnsafeNumpyData(
                'NumPy array whose data is not raw bytes (a list of '
                'objects); only plain number arrays are allowed')
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * dtype.itemsize:
            raise UnsafeNumpyData(
                f'NumPy array of shape {shape} and dtype {dtype} needs '
                f'{count * dtype.itemsize} bytes, the file holds {len(raw)}')
        flat = np.frombuffer(bytes(raw), dtype=dtype).copy()
        return flat.reshape(shape, order='F' if is_fortran else 'C')


class _PendingScalar:
    """What ``numpy.core.multiarray.scalar(dtype, raw)`` asked for."""

    def __init__(self, dtype=None, raw=None) -> None:
        self.dtype, self.raw = dtype, raw

    def build(self, dtype_of: Callable):
        dtype = dtype_of(self.dtype)
        if not isinstance(self.raw, (bytes, bytearray)) or \
                len(self.raw) != dtype.itemsize:
            raise UnsafeNumpyData(
                f'NumPy scalar of dtype {dtype} with malformed data '
                f'{self.raw!r:.100}')
        return np.frombuffer(bytes(self.raw), dtype=dtype)[0]


def _reconstruct(subtype, shape, code) -> _PendingArray:
    if subtype is not _NdarrayType or tuple(shape) != (0, ):
        raise UnsafeNumpyData(
            f'numpy _reconstruct({subtype!r}, {shape!r}, ...): only plain '
            'numpy.ndarray is allowed')
    return _PendingArray()


def _empty_bytes(*args) -> bytes:
    """Protocol 2 pickles ``b''`` (the data of an empty array) as
    ``bytes()``; other bytes come through ``_codecs.encode``."""
    if args:
        raise UnsafeNumpyData(f'bytes{args!r:.100}: only bytes() is allowed')
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


def restore_numpy(obj: Any) -> Any:
    """``obj`` with every NumPy stand-in replaced by the real, validated
    array / scalar / dtype (containers rebuilt only where one changed)."""
    memo: Dict[int, Any] = {}
    dtypes: Dict[int, np.dtype] = {}

    def dtype_of(value) -> np.dtype:
        if not isinstance(value, _PendingDtype):
            raise UnsafeNumpyData(
                f'NumPy data whose dtype is {type(value).__name__}, '
                'not a numpy dtype')
        if id(value) not in dtypes:
            dtypes[id(value)] = value.build()
        return dtypes[id(value)]

    def walk(value):
        key = id(value)
        if key in memo:
            return memo[key]
        if isinstance(value, _PendingArray):
            out = value.build(dtype_of)
        elif isinstance(value, _PendingScalar):
            out = value.build(dtype_of)
        elif isinstance(value, _PendingDtype):
            out = dtype_of(value)
        elif isinstance(value, dict):
            memo[key] = value  # cycles
            items = [(walk(k), walk(v)) for k, v in value.items()]
            if any(a is not k or b is not v
                   for (a, b), (k, v) in zip(items, value.items())):
                value.clear()
                value.update(items)
            out = value
        elif isinstance(value, list):
            memo[key] = value
            value[:] = [walk(v) for v in value]
            out = value
        elif isinstance(value, (tuple, set, frozenset)):
            items = [walk(v) for v in value]
            out = value if all(a is b for a, b in zip(items, value)) else (
                type(value)(items) if not hasattr(value, '_fields') else
                type(value)(*items))
        elif hasattr(value, '__dict__') and not callable(value) and \
                type(value).__module__.startswith('mmengine'):
            memo[key] = value  # allowlisted objects (HistoryBuffer)
            for name, item in list(vars(value).items()):
                setattr(value, name, walk(item))
            out = value
        else:
            out = value
        memo[key] = out
        return out

    return walk(obj)
