"""The GPU benchmark of issue 14 in one run (< 8 min on one H100/H200):
loss vs ATLoss (eager, compiled), step overhead at batch 32 and 128, fast
teacher, ops and syncs per step; one JSON. Logic:
``dctkd_mm/benchmarks/gpu_suite.py``. Example::

    python tools/analysis_tools/gpu_benchmark.py --out gpu.json
"""
from dctkd_mm.benchmarks.gpu_suite import main

if __name__ == '__main__':
    main()
