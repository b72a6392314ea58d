"""``dctkd_mm/datasets/libjpeg_report.py``: libjpeg's damage warnings are
read back from standard error, and nothing else written there is lost.

The end-to-end cases (damaged JPEGs through the flagship's pipelines) are
in ``tests/reliability/test_reliability_bad_input.py``.
"""
import io
import os

import numpy as np
from PIL import Image

from dctkd_mm.datasets import libjpeg_report


def _jpeg() -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (64, 80, 3),
                                               dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, 'JPEG', quality=90)
    return out.getvalue()


def test_the_installed_opencv_reports_libjpeg_warnings():
    """Otherwise CheckedLoadImageFromFile falls back to the structure
    check with a warning: this pins that the fallback is not what CI
    exercises."""
    assert libjpeg_report.available()


def test_damage_is_returned_and_not_printed(capfd):
    data = _jpeg()
    assert libjpeg_report.jpeg_damage(data) == []
    damage = libjpeg_report.jpeg_damage(data[:len(data) // 2] + b'\xff\xd9')
    assert damage == ['Corrupt JPEG data: premature end of data segment']
    assert 'Corrupt JPEG' not in capfd.readouterr().err


def test_other_output_on_stderr_is_written_back(capfd):
    def decode():
        os.write(2, b'another thread was logging\n')
        return 'image'

    assert libjpeg_report.decode_reporting(decode) == ('image', [])
    assert capfd.readouterr().err == 'another thread was logging\n'
