"""Train a dctkd_mm / MMRazor / MMPretrain config (MMPretrain's command
line; the logic is ``dctkd_mm.apis.train_cli``)."""
from dctkd_mm.apis.train_cli import main

if __name__ == '__main__':
    main()
