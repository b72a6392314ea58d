"""Choose the demo's regime on the baseline and the teacher alone.

    python -m dctkd_mm.demo.sweep --seeds 3 --record docs/demo_regimes.md \\
        --regime "--epochs 30 --train-per-class 25" --regime "--epochs 40"

Each ``--regime`` (demo options, see ``python tools/run_demo.py --help``)
runs the demo's baseline arm alone, ``--seeds`` paired seeds, and the
teacher (cached across regimes that share its settings), then appends one
row to the ``--record`` Markdown table: the baseline's top-1 per seed,
mean and spread, the teacher's top-1 and its gap to the baseline, the
probe's wall and CPU time (with the load average, as other processes on
the machine inflate both) and the exact ``tools/run_demo.py`` command that
repeats it. No distillation arm runs: the regime must not be chosen on how
they come out.
"""
import argparse
import os
import os.path as osp
import resource
import shlex
import time
from typing import List, Optional

from .report import TARGETS
from .statistics import mean_std

HEADER = ('| Regime | Baseline top-1 per seed | Mean ± std | Last gain | '
          'Teacher | Gap | Wall | CPU (user) | Load avg. | Command |\n'
          '|---|---|---|---|---|---|---|---|---|---|\n')
LIMITS = {key: limit for key, _, limit, _ in TARGETS}


def _cpu_seconds() -> float:
    """User CPU of this process and of its finished children (the demo's
    worker processes)."""
    return sum(resource.getrusage(who).ru_utime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def probe(regime: List[str], seeds: int, work_dir: str) -> dict:
    """One baseline-only demo run of ``regime``; its numbers and costs."""
    from .pipeline import main
    argv = regime + ['--methods', 'baseline', '--seeds', str(seeds)]
    load = os.getloadavg()[0]
    wall, cpu = time.time(), _cpu_seconds()
    out = main(argv + ['--work-dir', work_dir])
    wall, cpu = time.time() - wall, _cpu_seconds() - cpu
    load = max(load, os.getloadavg()[0])
    base = [r['top1'] for r in out['runs'] if r['method'] == 'baseline']
    teacher = next(r for r in out['runs'] if r['method'] == 'teacher')
    mean, std = mean_std(base)
    return dict(regime=' '.join(regime), baseline=base, mean=mean, std=std,
                last_gain=last_gain([r['curve'] for r in out['runs']
                                     if r['method'] == 'baseline']),
                teacher=teacher['top1'], gap=teacher['top1'] - mean,
                teacher_cached=teacher.get('cached', False),
                wall=wall, cpu=cpu, load=load,
                command=' '.join(['python tools/run_demo.py'] +
                                 [shlex.quote(a) for a in argv]))


def last_gain(curves: List[list]) -> Optional[float]:
    """Mean over seeds of the top-1 gained between the last two validation
    points of each curve (``[[epoch, top1], ...]``): how far from converged
    the baseline still is when training stops; None with one point."""
    gains = [c[-1][1] - c[-2][1] for c in curves if len(c) > 1]
    return sum(gains) / len(gains) if gains else None


def row(result: dict) -> str:
    """The record's Markdown row of a :func:`probe`."""
    one_seed = len(result['baseline']) < 2
    std_ok = one_seed or result['std'] <= LIMITS['baseline_std']
    gap_ok = result['gap'] >= LIMITS['teacher_gap']
    cached = ' (teacher cached)' if result['teacher_cached'] else ''
    gain = ('n/a' if result.get('last_gain') is None else
            f"{result['last_gain']:+.1f}")
    return (f"| `{result['regime'] or '(defaults)'}` | "
            + ', '.join(f'{v:.1f}' for v in result['baseline']) +
            f" | {result['mean']:.1f} ± "
            f"{'n/a (one seed)' if one_seed else format(result['std'], '.1f')}"
            f"{'' if std_ok else ' ✗'} | {gain} | {result['teacher']:.1f} | "
            f"{result['gap']:+.1f}{'' if gap_ok else ' ✗'} | "
            f"{result['wall']:.0f} s{cached} | {result['cpu']:.0f} s | "
            f"{result['load']:.1f} | `{result['command']}` |\n")


def record(path: str, result: dict) -> None:
    """Append the row to the table in ``path`` (the header first if the
    file has no table yet)."""
    text = open(path).read() if osp.isfile(path) else ''
    with open(path, 'a') as f:
        if HEADER.splitlines()[0] not in text:
            f.write(('\n' if text and not text.endswith('\n') else '') +
                    '\n' + HEADER)
        f.write(row(result))


def main(argv: Optional[List[str]] = None) -> List[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--regime', action='append', required=True,
                        help='demo options of one regime, quoted; repeat '
                        'for more ("" for the defaults)')
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--work-dir', default='work_dirs/demo_sweep')
    parser.add_argument('--record', help='Markdown file to append rows to')
    args = parser.parse_args(argv)
    results = []
    for regime in args.regime:
        result = probe(shlex.split(regime), args.seeds, args.work_dir)
        results.append(result)
        print('[sweep] ' + row(result), end='', flush=True)
        if args.record:
            record(args.record, result)
    return results


if __name__ == '__main__':
    main()
