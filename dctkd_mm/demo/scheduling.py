"""Running the demo's jobs on worker processes, with a progress line a
person can follow (``run 7/26 (kd, seed 1), about 4 min left``)."""
import contextlib
import gc
import math
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, List, Optional

from . import training

#: Relative CPU cost of one training image-epoch, from the per-image
#: times of the quarter-width networks at 64 px (one CPU thread): the
#: ResNet-18 student's step is 1, a distillation step adds the ResNet-50
#: teacher's forward pass, the teacher's own step is ResNet-50's. One
#: validation image costs a forward pass. Only the ratios matter: the
#: estimate is rescaled by the runs that have finished.
COST = dict(student=1.0, distill=1.8, teacher=2.9, val=0.35)


def job_cost(kind: str, train_images: int, epochs: int, val_images: int,
             validations: int) -> float:
    """Predicted cost of a run, in student image-epochs."""
    return (COST[kind] * train_images * epochs +
            COST['val'] * val_images * validations)


def validations(epochs: int, every: int) -> int:
    """How many times a run of ``epochs`` validating every ``every``
    epochs (0: at the end only) validates; the last epoch always does."""
    if not every:
        return 1
    return epochs // every + (epochs % every != 0)


class Progress:
    """Counts the runs as they start and estimates the time left.

    The estimate is the predicted cost of what is left (runs not started,
    and the unfinished part of those running) at the seconds per cost
    unit that the finished runs took, shared over the workers. Before a
    run has finished there is no estimate.
    """

    def __init__(self, jobs: List[dict], workers: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.total = len(jobs)
        self.workers = max(workers, 1)
        self.clock = clock
        self.started = 0
        self.pending_cost = sum(job['cost'] for job in jobs)
        self.running = {}
        self.done_cost = self.done_seconds = 0.

    def seconds_left(self) -> Optional[float]:
        if not self.done_cost:
            return None
        rate = self.done_seconds / self.done_cost
        now = self.clock()
        running = sum(max(0., job['cost'] * rate - (now - since))
                      for job, since in self.running.values())
        return (self.pending_cost * rate + running) / self.workers

    def left_text(self) -> str:
        left = self.seconds_left()
        if left is None:
            return 'time left estimated once a run has finished'
        if left < 60:
            return 'under a minute left'
        return f'about {math.ceil(left / 60)} min left'

    def start(self, job: dict) -> str:
        self.started += 1
        self.pending_cost -= job['cost']
        self.running[id(job)] = (job, self.clock())
        line = (f'[progress] run {self.started}/{self.total} '
                f'({job["method"]}, seed {job["seed"]}), '
                f'{self.left_text()}')
        print(line, flush=True)
        return line

    def finish(self, job: dict, result: dict) -> None:
        self.running.pop(id(job), None)
        self.done_cost += job['cost']
        self.done_seconds += result['seconds']


def init_worker(threads: int, device: str = 'cpu') -> None:
    """A worker process's set-up: ``threads`` torch threads, no CUDA
    device seen on ``cpu``, and what its imports made (the libraries: they
    live as long as the worker) out of the reach of the ``gc.collect()``
    that MMEngine runs for every dataset it builds (~0.2 s a call, twice
    or more per run, walking all of it)."""
    if device == 'cpu':  # before CUDA is initialised in this process
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    import torch
    torch.set_num_threads(threads)
    gc.freeze()


@contextlib.contextmanager
def torch_threads(count: int):
    """``count`` torch threads in this process inside the block, the
    previous number after it."""
    import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_jobs(gate: Optional[dict], free: List[dict], gated: List[dict],
             on_done, workers: int, threads: int, device: str,
             progress: Progress) -> None:
    """Run every job, passing ``(job, result)`` to ``on_done`` as each
    finishes. ``gated`` jobs (the distillation runs) start once ``gate``
    (the teacher, None if cached) is done; ``free`` ones (the baselines)
    run alongside it. ``workers`` processes, or this one for 0. A job is
    handed to a worker only when one is free, so that ``progress`` counts
    a run when it really starts."""
    queue = ([gate] if gate else []) + free + ([] if gate else gated)
    if workers == 0:
        for job in queue + (gated if gate else []):
            progress.start(job)
            result = training.run_job(job)
            progress.finish(job, result)
            on_done(job, result)
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context('spawn'),
        initializer=init_worker, initargs=(threads, device))
    pending = {}

    def fill() -> None:
        while queue and len(pending) < workers:
            job = queue.pop(0)
            progress.start(job)
            pending[pool.submit(training.run_job, job)] = job

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                result = future.result()
                progress.finish(job, result)
                on_done(job, result)
                if job is gate:
                    queue.extend(gated)
            fill()
    finally:
        pool.shutdown(cancel_futures=True)
