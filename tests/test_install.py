"""``pip install -e .`` alone leaves MMCV out (setup.py cannot require it
without replacing a full mmcv with mmcv-lite or the reverse): ``import
dctkd_mm`` then stops at once with an error naming what to install."""
import os
import subprocess
import sys

import pytest

from dctkd_mm.compat.dependencies import (MMCV_PIN, MissingDependencyError,
                                          _version_tuple, check_mmcv)

# Hides mmcv from import as if it were not installed, then imports
# dctkd_mm and reports how it failed and what it had imported by then.
_HIDE_MMCV = """
import importlib.abc, sys, traceback

class HideMMCV(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == 'mmcv' or name.startswith('mmcv.'):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideMMCV())
try:
    import dctkd_mm
except Exception as exc:
    print('TYPE', type(exc).__name__)
    print('MESSAGE', exc)
    print('LOADED', sorted(m for m in ('mmpretrain', 'mmrazor', 'mmengine')
                           if m in sys.modules))
else:
    print('IMPORTED')
"""


def _run(script, **kwargs):
    return subprocess.run([sys.executable, '-c', script], text=True,
                          capture_output=True, timeout=120, **kwargs)


def test_missing_mmcv_stops_import_with_the_fix():
    out = _run(_HIDE_MMCV).stdout
    assert 'TYPE MissingDependencyError' in out, out
    assert f'pip install "{MMCV_PIN}"' in out
    assert 'mmcv 2.0.x-2.1.x' in out and "No module named 'mmcv'" in out
    # At once: before MMPretrain or MMRazor were imported.
    assert "LOADED []" in out


def test_mmcv_out_of_range_is_named(tmp_path):
    """A too-new mmcv (MMRazor 1.0.0 asserts <= 2.1.0 deep in its import)
    is refused up front with its version and location."""
    fake = tmp_path / 'mmcv'
    fake.mkdir()
    (fake / '__init__.py').write_text("__version__ = '2.2.0'\n")
    script = ('from dctkd_mm.compat.dependencies import check_mmcv\n'
              'check_mmcv()\n')
    # The fake mmcv comes first on the path of that process only.
    result = _run(script, env={**os.environ, 'PYTHONPATH': str(tmp_path)})
    assert result.returncode != 0
    assert 'MissingDependencyError' in result.stderr
    assert 'mmcv 2.2.0 is installed at' in result.stderr
    assert str(fake) in result.stderr and MMCV_PIN in result.stderr


def test_installed_mmcv_passes():
    import mmcv
    assert check_mmcv() == mmcv.__version__


@pytest.mark.parametrize('version, expected', [
    ('2.1.0', (2, 1, 0)), ('2.0.0rc4', (2, 0, 0)), ('2.0', (2, 0, 0)),
    ('2.1.0+cu121', (2, 1, 0)), ('2.2.0', (2, 2, 0))
])
def test_version_parsing(version, expected):
    assert _version_tuple(version) == expected


def test_error_is_an_import_error():
    # Code that guards ``import dctkd_mm`` with ``except ImportError`` still
    # works.
    assert issubclass(MissingDependencyError, ImportError)
