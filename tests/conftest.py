import os

import pytest

from utils import runner_state_restored

#: Processes the suite runs in by default (pytest-xdist): the CI and
#: development machines have 2 cores. ``-n 0`` (or ``-p no:xdist``) runs
#: in this process; ``-n N`` picks another number.
DEFAULT_WORKERS = 2


def _xdist_worker() -> bool:
    return 'PYTEST_XDIST_WORKER' in os.environ


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """``python -m pytest tests -q`` runs on DEFAULT_WORKERS processes
    when pytest-xdist is installed and nothing about distribution was
    asked for (runs before xdist reads the options)."""
    if (not config.pluginmanager.hasplugin('xdist') or _xdist_worker()
            or config.getoption('numprocesses', None) is not None
            or config.getoption('dist', 'no') != 'no'
            or config.getoption('collectonly')
            or config.getoption('usepdb')):
        return
    if (os.cpu_count() or 1) < 2:
        return
    config.option.numprocesses = DEFAULT_WORKERS
    # A whole file per worker: module-scoped fixtures (trained checkpoints,
    # data trees) are built once, as in a one-process run.
    config.option.dist = 'loadfile'


def pytest_configure(config):
    # Slow tests still run by default (CI runs them); `-m "not slow"`
    # skips them for a quick local loop.
    config.addinivalue_line(
        'markers', 'slow: end-to-end runs through tools/ (tens of seconds)')
    if _xdist_worker():
        # Workers share the cores: one torch thread each on 2 cores, not
        # two threads each fighting over them.
        import torch
        workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(autouse=True)
def _isolated_process_state():
    """Every test leaves MMEngine's default registry scope, deterministic
    algorithms and thread count as it found them: on a pytest-xdist worker
    the next test may come from any file."""
    with runner_state_restored():
        yield


@pytest.fixture
def restore_default_scope():
    """Runners and inferencers leave their default registry scope (and
    more, see ``utils.runner_state_restored``) set for the rest of the
    process; undo that after the test. Modules that build runners or
    inferencers use it with ``pytestmark =
    pytest.mark.usefixtures('restore_default_scope')``."""
    with runner_state_restored():
        yield
