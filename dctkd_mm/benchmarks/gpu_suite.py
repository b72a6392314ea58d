"""The one GPU run for issue 14 (``tools/analysis_tools/gpu_benchmark.py``),
sized to finish in under 8 minutes on one H100/H200, writing one JSON:

1. ``loss``: ``DCTAttentionLoss`` vs MMRazor's ``ATLoss``, forward +
   backward on ResNet-50 -> ResNet-18 stage features, eager and compiled,
   with op, launch and sync counts;
2. ``step_b32`` / ``step_b128``: the flagship step overhead, distill step /
   (student step + teacher forward), with and without the finite check,
   and with the fast teacher (inference mode, channels-last, bf16
   autocast, bf16 features; no compile) against the fp32 teacher;
3. ``profile``: ops and host syncs the distillation step adds.

The JSON is rewritten after every section, so a run cut short keeps what
it measured; sections (but the first) that would start after ``--budget-s`` are skipped
and listed under ``skipped``. On a CPU it runs too (tests use tiny sizes).
"""
import argparse
import json
import sys
import time

import torch

from .loss_bench import loss_section
from .profile_counts import profile_section
from .step_bench import FAST_ALL, step_section
from .timing import environment

STEP_VARIANTS = {
    'distill': {},
    'distill, check_finite=False': dict(loss=dict(check_finite=False)),
    'distill + fast teacher (inf, CL, bf16, bf16 features)': dict(
        teacher_fast=FAST_ALL),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--size', type=int, default=224,
                        help='input px (the loss features follow it)')
    parser.add_argument('--loss-batch', type=int, default=32)
    parser.add_argument('--step-batches', type=int, nargs='+',
                        default=[32, 128])
    parser.add_argument('--profile-batch', type=int, default=32)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--no-compile', action='store_true',
                        help='skip the compiled losses')
    parser.add_argument('--budget-s', type=float, default=420,
                        help='start no section after this many seconds')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    import dctkd_mm  # noqa: F401  (registers the plugin)
    args = parse_args(argv)
    device = torch.device(args.device)
    results = dict(environment=environment(device),
                   command='python tools/analysis_tools/gpu_benchmark.py ' +
                   ' '.join(sys.argv[1:] if argv is None else argv),
                   skipped=[])
    plan = [('loss', lambda: loss_section(
        device, args.loss_batch, args.warmup, args.repeats,
        compile=not args.no_compile, size=args.size))]
    for batch in args.step_batches:
        plan.append((f'step_b{batch}', lambda b=batch: step_section(
            device, b, args.size, args.warmup, args.repeats,
            STEP_VARIANTS)))
    plan.append(('profile', lambda: profile_section(
        device, args.profile_batch, args.size)))
    start = time.perf_counter()
    for index, (name, run) in enumerate(plan):
        if index and time.perf_counter() - start > args.budget_s:
            results['skipped'].append(name)
            continue
        section_start = time.perf_counter()
        try:
            results[name] = run()
        except Exception as exc:  # noqa: BLE001 (recorded, run goes on)
            results[name] = dict(error=f'{type(exc).__name__}: {exc}'[:1000])
        results[name]['seconds'] = round(
            time.perf_counter() - section_start, 1)
        print(f'[{name}] {results[name]["seconds"]} s', file=sys.stderr,
              flush=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    results['total_seconds'] = round(time.perf_counter() - start, 1)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    return results
