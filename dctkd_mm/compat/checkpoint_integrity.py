"""Check a checkpoint file before any unpickler sees it.

* The format is decided as ``torch.load`` decides it (a zip starts with a
  local file header); ``zipfile.is_zipfile`` looks for a zip directory
  anywhere, so a legacy pickle with a zip appended would be checked as a
  zip while PyTorch unpickles the unchecked legacy pickle.
* A zip checkpoint (PyTorch's format since 1.6) has a CRC-32 for every
  record; PyTorch's reader ignores them, so a file with zeroed bytes
  inside a tensor record loads with changed weights. Here every record is
  read once through :mod:`zipfile`, which verifies its CRC. A compressed
  record is refused: ``torch.save`` stores them all, and PyTorch would
  inflate one into as much memory as the zip directory declares.
* Every pickle in the file (``data.pkl`` of a zip; the five pickles at
  the start of a legacy file) is scanned for nesting deeper than
  :data:`~.plain_data.MAX_NESTING` and calls of anything but a named
  global (see :mod:`.pickle_nesting`), and for globals PyTorch's
  ``weights_only`` unpickler admits but no saved weights need
  (:func:`_refusal`): constructors that allocate memory the file does not
  fill (``torch.Tensor(1000)`` returns 4 KB of uninitialized heap, with
  pointers in it), rebuilds that set arbitrary attributes through
  ``setattr`` (``.grad``, hooks), and meta, sparse, quantized, nested or
  wrapper-subclass tensors.
* In a legacy file every storage the object pickle names must be filled
  by the data that follows it (a storage left out of the key list keeps
  the uninitialized heap memory PyTorch allocated for it) and may not
  declare more elements than the file has bytes (an allocation bomb).

Legacy (pre-1.6, non-zip) files carry no checksum: their corruption is
detected only where it breaks the format.
"""
import _codecs
import collections
import io
import pickle
import zipfile
from typing import BinaryIO, Callable, List, Optional, Union

import torch
from torch._utils import IMPORT_MAPPING, NAME_MAPPING
from torch._weights_only_unpickler import _get_allowed_globals

from .checkpoint_globals import checkpoint_safe_globals
from .describe import describe
from .numpy_unpickling import UnsafeDataError
from .pickle_nesting import check_pickle_bytes, check_pickle_nesting
from .plain_data import MAX_NESTING

#: Pickles at the start of a legacy file: magic number, protocol version,
#: system info, the object, the storage keys.
_LEGACY_PICKLES = 5
_CHUNK = 1 << 22
#: What ``torch.load`` takes for a zip checkpoint (``_is_zipfile``).
_ZIP_MAGIC = b'PK\x03\x04'
#: The codec protocol 2 pickles bytes with.
_BYTES_CODECS = ('latin1', 'latin-1')


#: The globals of PyTorch's default allowlist that build their value from
#: the file's own data (dense tensors, containers, numbers).
_BUILDERS = (collections.OrderedDict, collections.Counter, set, complex,
             torch.Size, torch.device, torch.serialization._get_layout,
             _codecs.encode, torch._utils._rebuild_tensor,
             torch._utils._rebuild_tensor_v2, torch._utils._rebuild_tensor_v3,
             torch._utils._rebuild_parameter)


def _admitted(obj) -> bool:
    """Whether a global of PyTorch's default allowlist builds its value
    from the file's own data (dense tensors, containers, numbers)."""
    return any(obj is b for b in _BUILDERS) or isinstance(
        obj, (torch.dtype, torch.serialization.StorageType))


def _refusal(obj) -> str:
    """Why a global PyTorch admits is refused here."""
    if obj is torch._tensor._rebuild_from_type_v2 or \
            obj is torch._utils._rebuild_parameter_with_state:
        return ('rebuilds a tensor carrying Python attributes or slot state '
                '(set with setattr: .grad, hooks, __array_interface__); a '
                'saved tensor carries none')
    if isinstance(obj, type):
        return ('is a class the file would construct itself: tensor and '
                'storage constructors allocate memory the file does not '
                'fill (uninitialized heap memory, or an allocation bomb), '
                'as bytearray(n) does')
    return ('rebuilds a meta, sparse, quantized, nested, wrapper-subclass '
            'or device tensor; checkpoints hold dense tensors only')


def _global_check(where: str) -> Callable[[str, Optional[tuple]], None]:
    """``check_global`` for the pickle scan: refuse every name that is
    neither in PyTorch's default allowlist nor one of our stand-ins (the
    process-wide list other imports extend is no concern of a checkpoint),
    and every default :func:`_admitted` refuses. A class is refused only
    where it is called: ``torch.storage.UntypedStorage`` names the storage
    type in a genuine persistent id. ``_codecs.encode`` is
    called as protocol 2 writes bytes, ``(text, 'latin1')``, or refused:
    other codecs can import modules or run for hours ('punycode' is
    quadratic: 8,000 characters take 17 seconds).

    What passed is remembered for the scan as ``(arg, called)``: the
    decision depends on nothing else (``allowed`` and ``ours`` are fixed
    for the scan), except a call of ``_codecs.encode``, whose arguments
    are checked at every call."""
    allowed = _get_allowed_globals()
    ours = {name for _, name in checkpoint_safe_globals()}
    passed = set()

    def check(arg: str, call: Optional[tuple]) -> None:
        if (arg, call is not None) in passed:
            return
        module, _, name = arg.partition(' ')
        # The same mapping of Python 2 names PyTorch's unpickler applies.
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        obj = allowed.get(f'{module}.{name}')
        if obj is None and f'{module}.{name}' not in ours:
            raise UnsafeDataError(
                f'{where}: the pickle asks for '
                f"{describe(f'{module}.{name}')}, which safe loading does "
                'not build (only tensor rebuilds, plain containers and '
                'the NumPy and HistoryBuffer stand-ins)')
        if obj is not None and not _admitted(obj) and (
                call is not None or not isinstance(obj, type)):
            raise UnsafeDataError(
                f'{where}: the pickle asks for {module}.{name}, which '
                f'{_refusal(obj)}')
        if obj is _codecs.encode and call is not None and (
                len(call) != 2 or call[1] not in _BYTES_CODECS):
            shown = describe(call[1]) if len(call) == 2 else 'no codec'
            raise UnsafeDataError(
                f'{where}: the pickle calls _codecs.encode with {shown}; '
                "only _codecs.encode(text, 'latin1') (how protocol 2 "
                'writes bytes) is allowed')
        if obj is not _codecs.encode or call is None:
            passed.add((arg, call is not None))

    return check


def _check_zip(buffer: BinaryIO, source: str) -> None:
    with zipfile.ZipFile(buffer) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                # PyTorch inflates into a buffer of the size the directory
                # declares: 10 MB of deflated zeros becomes 10 GB.
                raise UnsafeDataError(
                    f'{source}: the record {describe(info.filename)} is '
                    'compressed; torch.save stores every record '
                    'uncompressed, and a compressed one can expand a '
                    'thousandfold (a zip bomb)')
            with archive.open(info) as record:
                if info.filename.endswith('.pkl'):
                    where = f'{source} (record {info.filename})'
                    check_pickle_bytes(record.read(), where, MAX_NESTING,
                                       _global_check(where))
                else:
                    while record.read(_CHUNK):  # the CRC check is at EOF
                        pass


class _Inert:
    """What every global and storage becomes in :class:`_StorageSurvey`:
    accepts any call, state and item, and keeps nothing."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass

    def __setitem__(self, key, value) -> None:
        pass

    def append(self, item) -> None:
        pass

    def extend(self, items) -> None:
        pass


class _StorageSurvey(pickle.Unpickler):
    """Unpickles a legacy file's pickle (already scanned for nesting)
    calling nothing: globals and storages become :class:`_Inert`; the
    persistent ids (PyTorch's storages) are collected in ``ids``."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding='utf-8')  # torch.load's
        self.ids: List = []

    def find_class(self, module: str, name: str):
        return _Inert

    def persistent_load(self, pid):
        self.ids.append(pid)
        return _Inert()


def _check_legacy_storages(raw: bytes, pickles: List[bytes],
                           source: str) -> None:
    """Every storage id ``('storage', type, key, location, numel, view)``
    of the object pickle names a key the key list fills, and declares at
    most one element per byte of the file."""
    survey = _StorageSurvey(pickles[3])
    survey.load()
    keys = _StorageSurvey(pickles[4]).load()
    filled = {k for k in keys if type(k) is str} if type(keys) is list \
        else set()
    for pid in survey.ids:
        if type(pid) is not tuple or len(pid) != 6:
            continue  # PyTorch refuses any other persistent id itself
        key, numel = pid[2], pid[4]
        if type(key) is not str or key not in filled:
            raise UnsafeDataError(
                f'{source}: the storage {describe(key)} is never filled by '
                "the file's data (it is not in the storage key list); "
                'PyTorch would hand out the uninitialized memory it '
                'allocated for it')
        if type(numel) is not int or not 0 <= numel <= len(raw):
            raise UnsafeDataError(
                f'{source}: the storage {describe(key)} declares '
                f'{describe(numel)} elements; the file has {len(raw)} bytes')


def _check_legacy(buffer: io.BytesIO, source: str) -> None:
    raw, pickles = buffer.getvalue(), []
    for _ in range(_LEGACY_PICKLES):
        start = buffer.tell()
        check_pickle_nesting(buffer, source, MAX_NESTING,
                             _global_check(source))
        pickles.append(raw[start:buffer.tell()])
    _check_legacy_storages(raw, pickles, source)


def verified_checkpoint(file: Union[str, BinaryIO],
                        source: str) -> io.BytesIO:
    """The bytes of ``file`` (a path or a binary file) in memory, once
    every zip record's CRC and every pickle's nesting, calls and globals
    (and a legacy file's storages) are checked.

    Raises ``zipfile.BadZipFile`` (bad CRC, broken zip),
    :class:`~.numpy_unpickling.UnsafeDataError` (too deep, a refused
    global, an unfilled storage) or ``ValueError`` / ``IndexError`` /
    ``KeyError`` (a malformed pickle)."""
    if isinstance(file, str):
        with open(file, 'rb') as f:
            raw = f.read()
    else:
        raw = file.read()
    buffer = io.BytesIO(raw)
    if raw[:len(_ZIP_MAGIC)] == _ZIP_MAGIC:
        _check_zip(buffer, source)
    else:
        _check_legacy(buffer, source)
    buffer.seek(0)
    return buffer
