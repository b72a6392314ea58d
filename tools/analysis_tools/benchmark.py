"""Time and profile DCT-driven attention distillation on this machine.

The logic is ``dctkd_mm.benchmarks`` (see ``dctkd_mm/benchmarks/cli.py``
for the options); results and commands are recorded in
docs/benchmarks.md.
"""
from dctkd_mm.benchmarks.cli import main

if __name__ == '__main__':
    main()
