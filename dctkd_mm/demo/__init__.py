"""The synthetic-scene demo (``tools/run_demo.py``): every distillation arm
of the paper at several paired seeds, with intervals, verdicts and a chart.

Arms are registered in :mod:`dctkd_mm.demo.methods` (how to add one is
documented there).
"""
from .methods import (DEMO_METHODS, DemoMethod, get_methods,
                      register_demo_method)
from .pipeline import main

__all__ = ['DEMO_METHODS', 'DemoMethod', 'get_methods',
           'register_demo_method', 'main']
