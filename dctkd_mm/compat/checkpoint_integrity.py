"""Check a checkpoint file before any unpickler sees it.

* A zip checkpoint (PyTorch's format since 1.6) has a CRC-32 for every
  record; PyTorch's reader ignores them, so a file with zeroed bytes
  inside a tensor record loads with changed weights. Here every record is
  read once through :mod:`zipfile`, which verifies its CRC.
* Every pickle in the file (``data.pkl`` of a zip; the five pickles at
  the start of a legacy file) is scanned for nesting deeper than
  :data:`~.plain_data.MAX_NESTING` (see :mod:`.pickle_nesting`).

Legacy (pre-1.6, non-zip) files carry no checksum: their corruption is
detected only where it breaks the format.
"""
import io
import zipfile
from typing import BinaryIO, Union

from .pickle_nesting import check_pickle_bytes, check_pickle_nesting
from .plain_data import MAX_NESTING

#: Pickles at the start of a legacy file: magic number, protocol version,
#: system info, the object, the storage keys.
_LEGACY_PICKLES = 5
_CHUNK = 1 << 22


def _check_zip(buffer: BinaryIO, source: str) -> None:
    with zipfile.ZipFile(buffer) as archive:
        for info in archive.infolist():
            with archive.open(info) as record:
                if info.filename.endswith('.pkl'):
                    check_pickle_bytes(record.read(),
                                       f'{source} (record {info.filename})',
                                       MAX_NESTING)
                else:
                    while record.read(_CHUNK):  # the CRC check is at EOF
                        pass


def verified_checkpoint(file: Union[str, BinaryIO],
                        source: str) -> io.BytesIO:
    """The bytes of ``file`` (a path or a binary file) in memory, once
    every zip record's CRC and every pickle's nesting is checked.

    Raises ``zipfile.BadZipFile`` (bad CRC, broken zip),
    :class:`~.numpy_unpickling.UnsafeDataError` (too deep) or
    ``ValueError`` / ``IndexError`` / ``KeyError`` (a malformed pickle)."""
    if isinstance(file, str):
        with open(file, 'rb') as f:
            raw = f.read()
    else:
        raw = file.read()
    buffer = io.BytesIO(raw)
    if zipfile.is_zipfile(buffer):
        _check_zip(buffer, source)
    else:
        buffer.seek(0)
        for _ in range(_LEGACY_PICKLES):
            check_pickle_nesting(buffer, source, MAX_NESTING)
    buffer.seek(0)
    return buffer
