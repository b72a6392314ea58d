"""Fixtures shared by the reliability tests (see docs/reliability.md)."""
import pytest

import utils
from utils import train_in_process


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """A 4-class Places365 tree (16 train, 8 val images of 40 px)."""
    root = str(tmp_path_factory.mktemp('tiny_places365'))
    utils.make_places365_tree(root)
    return root


@pytest.fixture(scope='session')
def teacher_ckpt(tiny_data, tmp_path_factory):
    """A genuine MMPretrain checkpoint: configs/teachers/
    resnet50_in1k-pre_1xb128-70e_places365.py trained for one epoch on
    the tiny data by tools/train.py."""
    root = tmp_path_factory.mktemp('teacher')
    config = utils.write_teacher_config(str(root / 'teacher.py'), tiny_data)
    train_in_process([config, '--work-dir', str(root / 'work')])
    path = root / 'work' / 'epoch_1.pth'
    assert path.is_file()
    return str(path)


@pytest.fixture(scope='session')
def distill_config(tiny_data, teacher_ckpt, tmp_path_factory):
    """The flagship config on the tiny data (see
    utils.write_distill_config)."""
    root = tmp_path_factory.mktemp('distill_config')
    return utils.write_distill_config(
        str(root / 'tiny_dct_kd.py'), tiny_data, teacher_ckpt)


@pytest.fixture(scope='module', autouse=True)
def _uninterrupted_run_early(request):
    """The uninterrupted run takes a while in its own process: a module
    with a test that needs it starts it before its first test, so it runs
    next to that module's in-process tests. Only such a module starts it:
    a pytest-xdist worker that gets none of them (whole files are handed
    out) does not train it for nothing."""
    if any('uninterrupted_run' in getattr(item, 'fixturenames', ())
           for item in request.session.items
           if getattr(item, 'module', None) is request.module):
        request.getfixturevalue('uninterrupted_run')


_RUNS = {}


def _start_uninterrupted(config, tmp_path_factory):
    if config not in _RUNS:
        _RUNS[config] = utils.BackgroundRun(
            config, str(tmp_path_factory.mktemp('uninterrupted')))
    return _RUNS[config]


@pytest.fixture(scope='session')
def uninterrupted_run(distill_config, tmp_path_factory):
    """The tiny flagship run, 2 epochs, never interrupted, in a background
    process (call ``.wait()`` before reading its files)."""
    run = _start_uninterrupted(distill_config, tmp_path_factory)
    yield run
    run.stop()
