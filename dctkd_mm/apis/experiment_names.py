"""A distinct experiment name for every runner a process builds.

MMEngine names a run's logger, message hub and visualizer after
``experiment_name``: the config's, or its file name, followed by the
second the runner was made. Those are process-wide instances looked up by
that name, so a second run of the same config started in the same second
in the same process (the tools' ``main`` called twice: a notebook, a
sweep, the tests) gets the first run's instances: it logs into the first
run's work dir and continues its message hub. The first run of a process
keeps MMEngine's name; each later one gets ``_run<k>`` added.
"""
import itertools
import os.path as osp

_runs = itertools.count()


def distinct_experiment_name(cfg) -> None:
    """Give ``cfg`` (an MMEngine Config, changed in place) an
    ``experiment_name`` no earlier run of this process had."""
    index = next(_runs)
    if index == 0:
        return
    name = cfg.get('experiment_name')
    if name is None:
        name = (osp.splitext(osp.basename(cfg.filename))[0]
                if cfg.filename else 'run')
    cfg.experiment_name = f'{name}_run{index}'
