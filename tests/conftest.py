import gc
import os

# No full garbage collections while the libraries and the test modules are
# imported (Python ran about eight, each walking everything imported so
# far: ~2 s of CPU per process); young objects are still collected. The
# thresholds come back, and all of it is frozen, once collection is done
# (pytest_collection_finish).
_GC_THRESHOLDS = gc.get_threshold()
gc.set_threshold(_GC_THRESHOLDS[0], _GC_THRESHOLDS[1], 1 << 30)

import pytest  # noqa: E402

from utils import Killed, runner_state_restored  # noqa: E402
from utils.config_costs import config_costs_cut  # noqa: E402
from utils.file_seconds import FILE_SECONDS  # noqa: E402

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
    dist = getattr(config.option, 'dist', 'no')
    if not _xdist_worker() and dist != 'no':
        # A pytest-xdist controller collects nothing itself: full garbage
        # collections come back now (see _GC_THRESHOLDS).
        gc.set_threshold(*_GC_THRESHOLDS)
    if not _xdist_worker() and dist in ('loadfile', 'loadscope'):
        # Files are handed out in collection order (heaviest first, see
        # pytest_collection_modifyitems), not in xdist's default order of
        # the files with the most tests first (which sent the slow files
        # of few tests last, one worker idle while the other ran them).
        config.option.loadscopereorder = False
    if _xdist_worker():
        # Workers share the cores: one torch thread each on 2 cores, not
        # two threads each fighting over them.
        import torch
        workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_modifyitems(config, items):
    """On pytest-xdist workers, order the files heaviest first by their
    measured seconds (``utils.file_seconds``); files not in the table keep
    their order after them, tests keep their order within a file. Each
    worker takes the next file when it is nearly done with its last, so
    heaviest first (longest processing time first) finishes the two
    workers close together. A one-process run keeps pytest's order."""
    if not _xdist_worker():
        return
    files = {}
    for item in items:
        files.setdefault(item.nodeid.split('::', 1)[0], []).append(item)
    position = {name: i for i, name in enumerate(files)}

    def heaviest_first(name):
        seconds = FILE_SECONDS.get(name)
        if seconds is None:
            return (1, 0.0, position[name])
        return (0, -seconds, position[name])

    items[:] = [item for name in sorted(files, key=heaviest_first)
                for item in files[name]]


def pytest_collection_finish(session):
    """Full collections come back once collection is done (see
    ``_GC_THRESHOLDS``); what it left alive is frozen with the first
    module (``_gc_frozen_per_module``)."""
    gc.set_threshold(*_GC_THRESHOLDS)


@pytest.fixture(scope='module', autouse=True)
def _gc_frozen_per_module():
    """Everything alive when a module starts (the imported libraries and
    test modules, what earlier modules left: session fixtures, MMEngine's
    process-wide loggers, message hubs and visualizers) is moved out of
    the garbage collector's reach, after a full collection has freed
    their garbage (the module fixtures of the module before are torn down
    by then). MMEngine's datasets call ``gc.collect()`` as they are built
    (twice or more per run), and each full collection walked all of it
    again, ~0.3 s of CPU a call; now it walks only what this module made.
    Objects that are alive now and die later are freed by reference
    counting; only a cycle among them would stay."""
    gc.collect()
    gc.freeze()
    yield


@pytest.fixture(scope='session', autouse=True)
def _config_costs_cut():
    """Runs, inferencers and tools in this process skip yapf's formatting
    of the config text and look up each ``mmpretrain::`` base once (see
    ``utils.config_costs``): no test reads the text's layout, only its
    values (the dumped config is read back with ``Config.fromfile``).
    Tools run in a subprocess (the reliability runs, tools/dist_*.sh, the
    entry points' own tests) still pay both."""
    with config_costs_cut():
        yield


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


@pytest.fixture
def killed_on_second_save(monkeypatch):
    """The second checkpoint write of the test stops half-way: half its
    bytes are on disk, then the process "dies" (``utils.Killed``). Later
    writes are real. Returns the list of the files it was asked to write."""
    import mmengine.runner.runner as runner_module
    real = runner_module.save_checkpoint
    calls = []

    def half_written(checkpoint, filename, *args, **kwargs):
        calls.append(filename)
        if len(calls) != 2:
            return real(checkpoint, filename, *args, **kwargs)
        real(checkpoint, filename, *args, **kwargs)
        with open(filename, 'rb') as f:
            data = f.read()
        with open(filename, 'wb') as f:
            f.write(data[:len(data) // 2])
        raise Killed(filename)

    monkeypatch.setattr(runner_module, 'save_checkpoint', half_written)
    return calls
