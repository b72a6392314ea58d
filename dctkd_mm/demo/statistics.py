"""Statistics of the demo: spread over seeds, paired differences, verdicts.

Every seed trains one student per arm from the same initial weights and
data order, so the seed-to-seed variation that all arms share cancels in
the per-seed difference ``arm - reference``. The 95% interval of the mean
difference is Student's t interval over the seeds (``n - 1`` degrees of
freedom); the verdict follows from it alone:

* ``better``: the whole interval is above 0;
* ``worse``: the whole interval is below 0;
* ``not distinguishable``: the interval contains 0 (or there are fewer
  than two seeds, so no interval).
"""
import math
from typing import Dict, List, Optional, Sequence

from scipy import stats

BETTER, WORSE, UNCLEAR = 'better', 'worse', 'not distinguishable'


def mean_std(values: Sequence[float]):
    """Mean and sample standard deviation (``n - 1``; 0 for one value)."""
    n = len(values)
    if n == 0:
        raise ValueError('mean_std needs at least one value')
    mean = sum(values) / n
    if n < 2:
        return mean, 0.
    return mean, math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))


def t_interval(values: Sequence[float], confidence: float = 0.95):
    """``(mean, low, high)``: Student's t interval of the mean; ``low`` and
    ``high`` are None for fewer than two values."""
    mean, std = mean_std(values)
    n = len(values)
    if n < 2:
        return mean, None, None
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    return mean, mean - half, mean + half


def verdict(low: Optional[float], high: Optional[float]) -> str:
    """The verdict that follows from an interval of ``arm - reference``."""
    if low is None or high is None:
        return UNCLEAR
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return UNCLEAR


def binomial_se(accuracy_pct: float, n: int) -> float:
    """Standard error, in points, of one top-1 measured on ``n`` images."""
    p = accuracy_pct / 100
    return 100 * math.sqrt(p * (1 - p) / n)


def paired_comparison(runs: List[dict], arm: str, reference: str,
                      metric: str = 'top1',
                      confidence: float = 0.95) -> Optional[Dict]:
    """``arm - reference`` over the seeds both were trained with.

    Returns None if they share no seed; else a dict with ``arm``,
    ``reference``, ``seeds``, ``differences`` (per seed), ``mean``,
    ``low``, ``high``, ``verdict``, and the same interval under the names
    ``results.json`` readers look for: ``mean_diff`` and ``ci95`` (``[low,
    high]``, None for one seed) with its ``half_width``.
    """
    by_seed = {}
    for run in runs:
        if run['method'] in (arm, reference):
            by_seed.setdefault(run['seed'], {})[run['method']] = run[metric]
    seeds = sorted(s for s, v in by_seed.items() if len(v) == 2)
    if not seeds:
        return None
    diffs = [by_seed[s][arm] - by_seed[s][reference] for s in seeds]
    mean, low, high = t_interval(diffs, confidence)
    return dict(arm=arm, reference=reference, seeds=seeds,
                differences=diffs, mean=mean, low=low, high=high,
                verdict=verdict(low, high), mean_diff=mean,
                ci95=None if low is None else [low, high],
                half_width=None if low is None else (high - low) / 2)


def comparisons(runs: List[dict], arms: Sequence[str],
                references: Sequence[str]) -> List[Dict]:
    """Each arm against each reference it was run with. A reference is
    not compared with itself nor with an earlier reference (``kd - at`` is
    reported, its mirror ``at - kd`` is not)."""
    out = []
    for ref_index, reference in enumerate(references):
        for arm in arms:
            if arm == reference or arm in references[:ref_index]:
                continue
            result = paired_comparison(runs, arm, reference)
            if result is not None:
                out.append(result)
    return out
