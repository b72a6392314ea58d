"""Running the tools: in this process (global state restored), in a
subprocess (``run_tool``, ``subprocess_env``) or in the background
(``BackgroundRun``, the reliability tests' runs), reading their logs, and
the demo's per-run records for its statistics and report
(``demo_runs``)."""
import glob
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

import torch

from .constants import REPO_ROOT, TEST_MODULE_DIRS


# --- running tools -----------------------------------------------------------


@contextmanager
def runner_state_restored():
    """Undo the process-wide state an in-process MMEngine run or inferencer
    leaves behind (default registry scope, deterministic algorithms, thread
    count), so other tests in this process see none of it."""
    from mmengine.registry import DefaultScope
    scopes = dict(DefaultScope._instance_dict)
    deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        DefaultScope._instance_dict = scopes
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def train_in_process(argv):
    """``tools/train.py`` main in this process (saves the ~8 s import of a
    subprocess), with global state restored afterwards."""
    from dctkd_mm.apis.train_cli import main
    with runner_state_restored():
        return main(argv)


def subprocess_env(**extra: str) -> Dict[str, str]:
    """Environment for a tool subprocess: the test-only modules importable,
    one thread (so runs side by side stay bit-identical), no GPU."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        list(TEST_MODULE_DIRS) + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='', PYTHONHASHSEED='0')
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now (for MASTER_PORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_tool(cmd: Sequence[str],
             env: Optional[Dict[str, str]] = None,
             timeout: float = 600,
             cwd: Optional[str] = None) -> str:
    """Run a tool (``python tools/train.py ...``, ``bash tools/dist_*.sh``)
    and return its combined output; fail with the output's tail if it
    exits non-zero.

    It runs in its own process group, killed whole on timeout, so a hung
    rank of a distributed job does not outlive the test.
    """
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO_ROOT,
        text=True,
        start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f'{" ".join(cmd)} timed out after {timeout}s:'
                             f'\n{out[-5000:]}')
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited with '
                             f'{proc.returncode}:\n{out[-8000:]}')
    return out


def read_scalars(work_dir: str) -> List[dict]:
    """The records ``LocalVisBackend`` logged during a run in ``work_dir``
    (``{timestamp}/vis_data/scalars.json``, one JSON object a line)."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, f'expected one run in {work_dir}, got {files}'
    with open(files[0]) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_test_metrics(work_dir: str) -> dict:
    """The metrics ``tools/test.py`` logged in ``work_dir``
    (``{timestamp}/{timestamp}.json``), without the timing entries."""
    files = glob.glob(osp.join(work_dir, '*', '*.json'))
    assert len(files) == 1, f'expected one test run in {work_dir}: {files}'
    with open(files[0]) as f:
        metrics = json.load(f)
    return {k: v for k, v in metrics.items() if k not in ('time', 'data_time')}


# --- background training runs (reliability) ----------------------------------

TRAIN_TOOL = osp.join(REPO_ROOT, 'tools', 'train.py')
TIMEOUT = 600


def train_command(config: str, work_dir: str, *args: str) -> List[str]:
    return [sys.executable, TRAIN_TOOL, config, '--work-dir', work_dir, *args]


def start_training(config: str, work_dir: str, *args: str,
                   log_name: str = 'run.log') -> subprocess.Popen:
    """Start ``tools/train.py`` in a subprocess (output to a log file)."""
    os.makedirs(work_dir, exist_ok=True)
    log = open(osp.join(work_dir, log_name), 'w')
    return subprocess.Popen(
        train_command(config, work_dir, *args),
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT)


def log_tail(work_dir: str, log_name: str = 'run.log', lines: int = 40):
    with open(osp.join(work_dir, log_name)) as f:
        return ''.join(f.readlines()[-lines:])


def finish(proc: subprocess.Popen, work_dir: str, log_name: str,
           expect_killed: bool) -> None:
    """Wait for a training subprocess; assert it was SIGKILLed or exited
    cleanly, showing the end of its log otherwise."""
    try:
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if expect_killed:
        assert code == -9, (f'run was not killed (exit {code}):\n'
                            f'{log_tail(work_dir, log_name)}')
    else:
        assert code == 0, (f'run failed (exit {code}):\n'
                           f'{log_tail(work_dir, log_name)}')


def trace_options(trace_file: str, final_state_file: str,
                  **hook) -> List[str]:
    """``--cfg-options`` configuring the test-only TraceAndKillHook."""
    hook = dict(trace_file=trace_file, final_state_file=final_state_file,
                **hook)
    return ['--cfg-options'
            ] + [f'custom_hooks.0.{k}={v}' for k, v in hook.items()]


class BackgroundRun:
    """An uninterrupted training run in a subprocess; :meth:`wait` for it
    before reading ``work_dir``, ``trace_file`` or ``final_state_file``."""

    def __init__(self, config: str, root: str) -> None:
        self.work_dir = osp.join(root, 'work')
        self.trace_file = osp.join(root, 'trace.jsonl')
        self.final_state_file = osp.join(root, 'final.pth')
        self._proc = start_training(
            config, self.work_dir,
            *trace_options(self.trace_file, self.final_state_file),
            log_name='train.log')
        self._done = False

    def wait(self) -> 'BackgroundRun':
        if not self._done:
            finish(self._proc, self.work_dir, 'train.log', False)
            self._done = True
        return self

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


# --- the demo's run records (dctkd_mm.demo) ----------------------------------


def demo_runs(arm_top1, base_top1, arm='dct'):
    """The records the demo keeps per trained run (``method``, ``seed``,
    ``top1``, ``top5``, ``mean_class``): the baseline's and ``arm``'s, seed
    ``i`` scoring the ``i``-th top-1 of each list."""
    return ([dict(method='baseline', seed=s, top1=v, top5=90.,
                  mean_class=v) for s, v in enumerate(base_top1)] +
            [dict(method=arm, seed=s, top1=v, top5=91., mean_class=v)
             for s, v in enumerate(arm_top1)])
