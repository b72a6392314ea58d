"""Evaluate a checkpoint of a dctkd_mm / MMRazor / MMPretrain config
(MMPretrain's command line; the logic is ``dctkd_mm.apis.test_cli``)."""
import gc

from dctkd_mm.apis.test_cli import main

if __name__ == '__main__':
    # Out of MMEngine's per-dataset gc.collect(), as in tools/train.py.
    gc.freeze()
    main()
