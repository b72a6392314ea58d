"""Image loading that names the file when an image is corrupt or truncated.

MMCV's ``LoadImageFromFile`` (what MMPretrain uses) reports a file the
decoder cannot read with ``assert img is not None`` (gone under
``python -O``, leaving a ``NoneType`` error three transforms later), and
with ``imdecode_backend='pillow'`` re-raises Pillow's ``image file is
truncated`` without the file name. Worse, neither decoder refuses a JPEG
whose entropy-coded data is damaged: libjpeg only warns ("premature end of
data segment", "extraneous bytes before marker") and fills the rest with
grey; Pillow drops the warning, OpenCV prints it and returns the image. A
crash while downloading or extracting a 1.8M-image archive leaves exactly
such files.

:class:`CheckedLoadImageFromFile` checks JPEG and PNG structure first (a
walk over their segment / chunk headers, no decoding), then decodes as
MMCV does while reading libjpeg's warnings (:mod:`.libjpeg_report`), and
raises :class:`CorruptImageError` naming the file for any failure. Bytes
after a JPEG's end-of-image marker are accepted: libjpeg never reads
them, and cameras and editors append such trailers to complete images.
"""
import struct
import warnings
from typing import Optional, Tuple

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmpretrain.registry import TRANSFORMS

from . import libjpeg_report

_JPEG_SOI = b'\xff\xd8'
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# JPEG markers without a length field: SOI, EOI, RSTn, TEM.
_STANDALONE = {0xD8, 0xD9, 0x01} | set(range(0xD0, 0xD8))


class CorruptImageError(OSError):
    """An image file that cannot be decoded completely."""


def _jpeg_problem(data: bytes) -> Optional[str]:
    """Why ``data`` is not a complete JPEG, or None. Walks the header
    segments to the (first) start of scan, then needs an end-of-image
    marker after it; in entropy-coded data a 0xFF byte is always stuffed
    or a restart marker, so an FF D9 there is the real end."""
    pos = 2
    while True:
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(
                data) and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 2 > len(data):
            return 'JPEG data ends inside its headers (truncated)'
        if data[pos] != 0xFF:
            return f'bad JPEG marker at byte {pos}'
        marker = data[pos + 1]
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > len(data):
            return 'JPEG data ends inside its headers (truncated)'
        (length, ) = struct.unpack('>H', data[pos + 2:pos + 4])
        if marker == 0xDA:  # start of scan
            scan = pos + 2 + length
            if data.find(b'\xff\xd9', scan) < 0:
                return ('JPEG data ends before its end-of-image marker '
                        '(truncated)')
            return None
        pos += 2 + length


def _png_problem(data: bytes) -> Optional[str]:
    """Why ``data`` is not a complete PNG, or None (walks the chunks to
    IEND)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            break
        if kind == b'IEND':
            return None
        pos = end
    return 'PNG data ends before its IEND chunk (truncated)'


def image_problem(data: bytes) -> Optional[str]:
    """Why the encoded image ``data`` is visibly incomplete, or None.

    Only JPEG and PNG are checked; other formats are left to the decoder.
    """
    if not data:
        return 'the file is empty'
    if data.startswith(_JPEG_SOI):
        return _jpeg_problem(data)
    if data.startswith(_PNG_SIGNATURE):
        return _png_problem(data)
    return None


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that raises :class:`CorruptImageError` naming
    the file for a truncated or undecodable image, whatever the decoder
    backend and its version, and for a JPEG whose data libjpeg reports as
    damaged.

    Same arguments as MMCV's ``LoadImageFromFile``. With
    ``ignore_empty=True`` such an image yields None instead (the dataset
    then draws another sample), as there. Results that already hold a
    decoded ``img`` and no ``img_path`` pass through unchanged: that is
    how MMPretrain's ``ImageClassificationInferencer`` feeds a test
    pipeline whose loader it did not strip (it strips only MMCV's).

    JPEG data is checked by libjpeg through OpenCV: with
    ``imdecode_backend='cv2'`` (MMCV's default) during the decode itself
    (0.49 -> 0.56 ms per 256x256 photo-like JPEG of 12 KB, one core of the
    development machine); with another backend (``'pillow'``, the scene
    configs') by one more OpenCV decode at 1/8 scale (0.81 -> 1.11 ms for
    the same file; 3.4 -> 7.9 ms for a noisy progressive 320x256 one).
    Where libjpeg's warnings cannot be read
    (:func:`libjpeg_report.available`) a warning says so once and only the
    structure is checked.
    """

    def transform(self, results: dict) -> Optional[dict]:
        if 'img_path' not in results and 'img' in results:
            # Already decoded: MMPretrain's ImageClassificationInferencer
            # loads paths and arrays itself and strips only a transform
            # named ``LoadImageFromFile`` from the config's test pipeline,
            # so on our configs this one receives the decoded image.
            return results
        if 'img_path' not in results:
            raise KeyError('CheckedLoadImageFromFile: the results hold '
                           "neither 'img_path' nor a decoded 'img'; keys: "
                           f'{sorted(results)}')
        filename = results['img_path']
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args,
                                                    filename)
            img_bytes = client.get(filename)
        else:
            img_bytes = fileio.get(filename, backend_args=self.backend_args)
        img, problem = None, image_problem(img_bytes)
        if problem is None:
            try:
                img, problem = self._decode(img_bytes)
            except Exception as exc:  # any decoder failure is this file's
                problem = f'{type(exc).__name__}: {exc}'
            if img is None and problem is None:
                problem = f'the {self.imdecode_backend} decoder cannot read it'
        if problem is not None:
            if self.ignore_empty:
                return None
            raise CorruptImageError(
                f"Corrupt or truncated image file '{filename}': {problem}. "
                'Re-extract or re-download it (or drop it from the '
                'annotation file).')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _decode(self, img_bytes: bytes) -> Tuple[Optional[np.ndarray],
                                                 Optional[str]]:
        """``(image, None)``, or ``(None, libjpeg's damage report)``."""

        def decode():
            return mmcv.imfrombytes(
                img_bytes, flag=self.color_type, backend=self.imdecode_backend)

        if not img_bytes.startswith(_JPEG_SOI) or not _libjpeg_readable():
            return decode(), None
        if self.imdecode_backend == 'cv2':
            img, damage = libjpeg_report.decode_reporting(decode)
        else:
            damage = libjpeg_report.jpeg_damage(img_bytes)
            img = None if damage else decode()
        if damage:
            return None, 'libjpeg reports ' + '; '.join(damage[:3])
        return img, None


def _libjpeg_readable() -> bool:
    if libjpeg_report.available():
        return True
    if not getattr(_libjpeg_readable, 'warned', False):
        _libjpeg_readable.warned = True
        warnings.warn(
            'CheckedLoadImageFromFile: libjpeg\'s warnings cannot be read '
            'in this process (OpenCV did not report a damaged test JPEG on '
            'standard error), so a JPEG whose data is damaged but whose '
            'markers are complete decodes with grey blocks, unreported.')
    return False
