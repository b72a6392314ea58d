"""Library code finds the project's configs inside the installed package
(``dctkd_mm/.mim/configs``, put there by setup.py), never by a path
relative to a source checkout: an installed wheel carries them."""
import glob
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from dctkd_mm import packaged_configs
from dctkd_mm.benchmarks.workloads import FLAGSHIP
from dctkd_mm.demo.methods import DEMO_METHODS, TEACHER_CONFIG, CONFIG_DIR
from utils import REPO_ROOT

PACKAGE_DIR = osp.join(REPO_ROOT, 'dctkd_mm')


def test_library_config_paths_are_inside_the_package():
    for path in [FLAGSHIP, osp.join(CONFIG_DIR, TEACHER_CONFIG)] + [
            arm.config_path for arm in DEMO_METHODS.values()]:
        assert path.startswith(osp.join(PACKAGE_DIR, '.mim', 'configs')), \
            path
        assert osp.isfile(path), path
    # The editable install links the checkout's folder: edits show at once.
    assert osp.samefile(packaged_configs.CONFIG_ROOT,
                        osp.join(REPO_ROOT, 'configs'))


def test_missing_config_and_missing_root_are_named(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='no config demo/nope.py'):
        packaged_configs.config_file('demo', 'nope.py')
    monkeypatch.setattr(packaged_configs, 'CONFIG_ROOT', str(tmp_path / 'x'))
    with pytest.raises(FileNotFoundError, match='pip install -e .'):
        packaged_configs.config_file('dct_kd_r50_r18_places365.py')


def test_a_built_wheel_carries_every_config(tmp_path):
    # Built from a copy: building in the checkout would replace its
    # editable link with a copy.
    source = tmp_path / 'src'
    source.mkdir()
    for name in ('setup.py', 'README.md'):
        shutil.copy(osp.join(REPO_ROOT, name), source / name)
    for name in ('dctkd_mm', 'configs'):
        shutil.copytree(osp.join(REPO_ROOT, name), source / name,
                        symlinks=True, ignore=shutil.ignore_patterns(
                            '__pycache__', '.mim', '*.egg-info'))
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(tmp_path / 'w'),
                    str(source)], check=True, capture_output=True,
                   timeout=300)
    wheel, = glob.glob(str(tmp_path / 'w' / '*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        'dctkd_mm/.mim/configs/' + osp.relpath(p, osp.join(REPO_ROOT,
                                                           'configs'))
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                           recursive=True)}
    assert len(expected) > 100
    assert expected <= names, sorted(expected - names)[:5]
