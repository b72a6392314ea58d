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
def distill_config(request, tiny_data, teacher_ckpt, tmp_path_factory):
    """The flagship config on the tiny data (see
    utils.write_distill_config)."""
    root = tmp_path_factory.mktemp('distill_config')
    config = utils.write_distill_config(
        str(root / 'tiny_dct_kd.py'), tiny_data, teacher_ckpt)
    # The uninterrupted run takes a while in its own process: start it
    # now, next to the in-process tests, if any collected test needs it.
    if any('uninterrupted_run' in getattr(item, 'fixturenames', ())
           for item in request.session.items):
        _start_uninterrupted(config, tmp_path_factory)
    return config


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
