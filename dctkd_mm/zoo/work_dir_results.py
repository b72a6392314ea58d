"""Best validation top-1 of a finished (or running) MMEngine work dir.

MMEngine's ``LocalVisBackend`` writes one JSON object per line to
``<work_dir>/<timestamp>/vis_data/scalars.json`` (and the logger hook the
same records to ``vis_data/<timestamp>.json``); validation records carry
``accuracy/top1`` and ``step`` (the epoch). A distillation run also logs
the teacher as ``teacher.accuracy/top1``, which is not the student's.
Every timestamp folder counts, so a resumed run's epochs are all seen.
"""
import glob
import json
import os.path as osp
from typing import List, NamedTuple, Optional

TOP1_KEY = 'accuracy/top1'


class Best(NamedTuple):
    top1: float
    step: int
    source: str  # the file the record came from


class WorkDirFormatError(ValueError):
    """A record in a work dir's JSON logs cannot be read."""


def scalar_files(work_dir: str) -> List[str]:
    """The JSON scalar logs of every run in ``work_dir``: ``scalars.json``
    where present, else the logger's ``<timestamp>.json``."""
    files = []
    for vis_data in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data'))):
        scalars = osp.join(vis_data, 'scalars.json')
        if osp.isfile(scalars):
            files.append(scalars)
        else:
            files.extend(sorted(glob.glob(osp.join(vis_data, '*.json'))))
    return files


def read_top1(path: str):
    """``(step, top1)`` for every validation record of one JSON log."""
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WorkDirFormatError(
                    f'{path}:{lineno}: not a JSON record ({exc.msg}); '
                    "expected MMEngine's one-object-per-line scalars."
                ) from None
            if isinstance(record, dict) and TOP1_KEY in record:
                yield int(record.get('step', -1)), float(record[TOP1_KEY])


def best_top1(work_dir: str) -> Optional[Best]:
    """The highest student top-1 logged in ``work_dir`` (None: nothing
    validated yet, or no such folder)."""
    best = None
    for path in scalar_files(work_dir):
        for step, top1 in read_top1(path):
            if best is None or top1 > best.top1:
                best = Best(top1, step, path)
    return best
