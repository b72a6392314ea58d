"""Synthetic-scene demo: a teacher, then the baseline, AT, KD, DCT and
DCT+KD students at 5 paired seeds; a table with 95% intervals and
verdicts, a bar chart, learning curves and attention maps. Under 10
minutes on two CPU cores (see docs/demo.md)::

    python tools/run_demo.py                       # the default run
    python tools/run_demo.py --methods all         # every registered arm
    python tools/run_demo.py --device cuda         # full-width networks

The logic lives in :mod:`dctkd_mm.demo`; ``--help`` lists the options.
"""
import gc

from dctkd_mm.demo import main

if __name__ == '__main__':
    # Out of MMEngine's per-dataset gc.collect(), as in tools/train.py.
    gc.freeze()
    main()
