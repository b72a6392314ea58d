"""Timing and memory measurement shared by the benchmarks.

Variants are timed interleaved (one call of each per round), so load
drift hits all of them alike; medians after warm-up; CUDA work is
synchronised before the clock is read.
"""
import ctypes
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, Optional

import torch


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_interleaved(fns: Dict[str, Callable[[], None]], device,
                     warmup: int, repeats: int,
                     failures: Optional[Dict[str, str]] = None
                     ) -> Dict[str, List[float]]:
    """Seconds per call of each function, one call of each per round.

    With ``failures`` given, a function that raises during warm-up is
    dropped (its error recorded there) instead of ending the run.
    """
    for name, fn in list(fns.items()):
        try:
            for _ in range(warmup):
                fn()
        except Exception as exc:  # noqa: BLE001 (reported, not hidden)
            if failures is None:
                raise
            failures[name] = f'{type(exc).__name__}: {exc}'[:500]
            del fns[name]
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def _proc_status_bytes(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_memory(fn: Callable[[], None], device) -> Optional[int]:
    """Peak bytes ``fn`` adds: tensors on CUDA
    (``max_memory_allocated`` above what was allocated before), resident
    memory on a Linux CPU (peak RSS growth after ``malloc_trim`` and a
    reset of the kernel's high-water mark; a few MB of noise)."""
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        base = _proc_status_bytes('VmRSS')
    except OSError:
        return None  # not Linux/glibc: no honest number, report none
    fn()
    return _proc_status_bytes('VmHWM') - base


def to_mb(nbytes: Optional[int]) -> Optional[float]:
    return None if nbytes is None else nbytes / 2**20


def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def spread(samples: List[float]) -> float:
    """Interquartile range over the median: how noisy the row is."""
    if len(samples) < 2:
        return 0.0
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) / statistics.median(samples)


def load_average() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def environment(device: torch.device) -> dict:
    env = dict(python=platform.python_version(), torch=torch.__version__,
               device=str(device), threads=torch.get_num_threads(),
               cpu=platform.processor() or platform.machine(),
               cpu_count=os.cpu_count())
    if device.type == 'cuda':
        env['gpu'] = torch.cuda.get_device_name(device)
        env['cudnn_tf32'] = torch.backends.cudnn.allow_tf32
        env['cudnn_benchmark'] = torch.backends.cudnn.benchmark
    return env
