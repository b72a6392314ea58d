"""What libjpeg reports while it decodes a JPEG's entropy-coded data.

A JPEG cut short with an end marker appended, or with a run of bytes
overwritten in its middle, still has a valid marker structure: only the
decoder finds that the entropy-coded data ends early ("premature end of
data segment") or runs on ("N extraneous bytes before marker 0xd9"), and
libjpeg treats both as *warnings*: it fills the missing blocks with grey
and returns an image. Pillow discards these warnings (its
``JpegDecode.c`` installs an ``output_message`` that does nothing and
never looks at ``num_warnings``); OpenCV lets libjpeg print them to the
process's standard error and returns the image, with no way to read them
back from Python.

So :func:`decode_reporting` runs a decode with file descriptor 2 pointed
at a private temporary file and reads libjpeg's messages from there.
Whatever else was written to standard error meanwhile (another thread's
output, a benign libjpeg warning) is written back to it unchanged; only
the messages that mean damaged pixel data are returned. The redirection
is process-wide, so our decodes are serialised by a lock; each process
(data loader workers fork) gets its own lock and file.

:func:`available` proves once per process that this works with the
installed OpenCV, on a JPEG it damages itself.
"""
import os
import re
import sys
import tempfile
import threading
from typing import Any, Callable, List, Optional, Tuple

import cv2
import numpy as np

#: libjpeg(-turbo) warnings that mean the image data is damaged or missing
#: (jerror.h: JWRN_HIT_MARKER, JWRN_EXTRANEOUS_DATA, JWRN_HUFF_BAD_CODE,
#: JWRN_ARITH_BAD_CODE, JWRN_MUST_RESYNC, JWRN_JPEG_EOF). Others
#: ("unknown JFIF revision", "bad ICC marker", "Invalid SOS parameters for
#: sequential JPEG") concern metadata of an image that decodes whole.
_DAMAGE = re.compile(
    r'^(Corrupt JPEG data: (?!bad ICC marker).*|Premature end of JPEG file)$')

_lock = threading.Lock()
_sink = None  # this process's temporary file, created on first use
_available: Optional[bool] = None


def _reset_after_fork() -> None:
    # A forked child shares the parent's file offset: it needs its own
    # file, and a fresh lock in case a parent thread held it.
    global _lock, _sink
    _lock, _sink = threading.Lock(), None


if hasattr(os, 'register_at_fork'):  # POSIX; Windows spawns instead
    os.register_at_fork(after_in_child=_reset_after_fork)


def decode_reporting(decode: Callable[[], Any]) -> Tuple[Any, List[str]]:
    """``(decode(), damage messages libjpeg wrote while it ran)``."""
    global _sink
    with _lock:
        if _sink is None:
            _sink = tempfile.TemporaryFile()
        _sink.seek(0)
        _sink.truncate()
        if sys.stderr is not None:  # its pending text goes before ours
            sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(_sink.fileno(), 2)
            try:
                result, error = decode(), None
            except Exception as exc:  # re-raised once stderr is back
                result, error = None, exc
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        _sink.seek(0)
        captured = _sink.read()
    damage, others = [], []
    for line in captured.decode('utf-8', 'replace').splitlines(True):
        (damage if _DAMAGE.match(line.strip()) else others).append(line)
    if others:
        os.write(2, ''.join(others).encode('utf-8', 'replace'))
    if error is not None:
        raise error
    return result, [line.strip()[:200] for line in damage]


def jpeg_damage(data: bytes) -> List[str]:
    """libjpeg's damage messages for the JPEG ``data``, from an OpenCV
    decode at 1/8 scale in grey: the entropy decoding (what finds the
    damage) is complete, the inverse DCT and colour work mostly skipped."""
    buffer = np.frombuffer(data, np.uint8)
    _, damage = decode_reporting(
        lambda: cv2.imdecode(buffer, cv2.IMREAD_REDUCED_GRAYSCALE_8))
    return damage


def available() -> bool:
    """Whether libjpeg's warnings can be read here: once per process, a
    JPEG cut in half with an end marker appended must be reported."""
    global _available
    if _available is None:
        rng = np.random.default_rng(0)
        image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        ok, encoded = cv2.imencode('.jpg', image)
        data = encoded.tobytes()
        try:
            _available = bool(ok) and bool(
                jpeg_damage(data[:len(data) // 2] + b'\xff\xd9'))
        except OSError:  # no file descriptor 2 to redirect
            _available = False
    return _available
