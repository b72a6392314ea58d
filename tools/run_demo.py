"""Synthetic-scene demo: teacher, every distillation arm at 3 paired seeds,
a table with 95% intervals and verdicts, a chart. About 6 minutes on two
CPU cores (see the README, "What the demo shows")::

    python tools/run_demo.py                       # all arms, 3 seeds
    python tools/run_demo.py --methods baseline,dct,dct+kd --seeds 5
    python tools/run_demo.py --device cuda         # full-width networks

The logic lives in :mod:`dctkd_mm.demo`; ``--help`` lists the options.
"""
from dctkd_mm.demo import main

if __name__ == '__main__':
    main()
