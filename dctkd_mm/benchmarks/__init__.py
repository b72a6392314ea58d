"""Benchmarks of DCT-driven attention distillation: loss and step timing,
op and host-sync counts (``torch.profiler``), the GPU suite, and the
gradient comparison of the two transforms. Entry points live in
``tools/analysis_tools/``."""
