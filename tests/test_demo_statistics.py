"""The demo's statistics (dctkd_mm.demo.statistics) on known numbers: mean,
standard deviation and t interval, the verdict an interval gives, the
validation size, and seed-paired comparisons between arms."""
import math

import numpy as np
import pytest
from utils import demo_runs

from dctkd_mm.demo import statistics
from dctkd_mm.demo.settings import parse_args

# --- statistics -----------------------------------------------------------


def test_mean_std_and_t_interval_on_known_numbers():
    assert statistics.mean_std([1., 2., 3., 4.]) == pytest.approx(
        (2.5, math.sqrt(5 / 3)))
    assert statistics.mean_std([7.]) == (7., 0.)
    # t(0.975, 2 dof) = 4.3027 (any t table); mean 2, std 1, n 3.
    mean, low, high = statistics.t_interval([1., 2., 3.])
    half = 4.302653 / math.sqrt(3)
    assert (mean, low, high) == pytest.approx((2., 2 - half, 2 + half),
                                              abs=1e-5)
    # t(0.975, 9 dof) = 2.2622.
    _, low, high = statistics.t_interval(list(range(10)))
    assert high - 4.5 == pytest.approx(2.262157 * np.std(range(10), ddof=1)
                                       / math.sqrt(10), abs=1e-5)
    assert statistics.t_interval([5.]) == (5., None, None)
    with pytest.raises(ValueError, match='at least one value'):
        statistics.mean_std([])


def test_verdict_follows_from_the_interval():
    assert statistics.verdict(0.1, 3.) == 'better'
    assert statistics.verdict(-3., -0.1) == 'worse'
    assert statistics.verdict(-1., 2.) == 'not distinguishable'
    assert statistics.verdict(0., 0.) == 'not distinguishable'
    assert statistics.verdict(None, None) == 'not distinguishable'


def test_validation_size_gives_at_most_one_point_standard_error():
    assert statistics.binomial_se(50., 2500) == pytest.approx(1.)
    args = parse_args([])
    num_val = args.num_classes * args.val_per_class
    assert num_val >= 2500
    assert statistics.binomial_se(50., num_val) <= 1.


def test_pairing_by_seed_separates_what_the_spread_hides():
    # Seeds differ by 20 points, but the arm is 2-4 points above the
    # baseline on every seed: paired, that is a clear gain.
    runs = demo_runs([42., 63., 84.], [40., 60., 80.])
    result = statistics.paired_comparison(runs, 'dct', 'baseline')
    assert result['differences'] == [2., 3., 4.]
    half = 4.302653 / math.sqrt(3)
    assert (result['mean'], result['low'], result['high']) == \
        pytest.approx((3., 3 - half, 3 + half), abs=1e-5)
    assert result['verdict'] == 'better'
    worse = statistics.paired_comparison(demo_runs([38., 57., 76.],
                                                   [40., 60., 80.]), 'dct',
                                         'baseline')
    assert worse['verdict'] == 'worse'
    mixed = statistics.paired_comparison(demo_runs([45., 55., 82.],
                                                   [40., 60., 80.]), 'dct',
                                         'baseline')
    assert mixed['verdict'] == 'not distinguishable'
    # Only the seeds both arms ran are paired.
    partial = statistics.paired_comparison(
        demo_runs([42., 63.], [40., 60., 80.]), 'dct', 'baseline')
    assert partial['seeds'] == [0, 1]
    assert statistics.paired_comparison(runs, 'dct', 'at') is None


def test_each_arm_is_compared_with_baseline_at_and_kd_once():
    runs = [dict(method=m, seed=s, top1=50. + s)
            for m in ('baseline', 'at', 'kd', 'dct') for s in range(3)]
    pairs = [(r['arm'], r['reference']) for r in statistics.comparisons(
        runs, ['baseline', 'at', 'kd', 'dct'], ('baseline', 'at', 'kd'))]
    assert pairs == [('at', 'baseline'), ('kd', 'baseline'),
                     ('dct', 'baseline'), ('kd', 'at'), ('dct', 'at'),
                     ('dct', 'kd')]
