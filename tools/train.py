"""Train a dctkd_mm / MMRazor / MMPretrain config (MMPretrain's command
line; the logic is ``dctkd_mm.apis.train_cli``)."""
import gc

from dctkd_mm.apis.train_cli import main

if __name__ == '__main__':
    # What the imports made lives as long as the process: out of the
    # reach of the gc.collect() that MMEngine runs for every dataset
    # it builds (~0.2 s each, walking all of it).
    gc.freeze()
    main()
