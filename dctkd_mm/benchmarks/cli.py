"""``tools/analysis_tools/benchmark.py``: time and profile DCT-driven
attention distillation (sections ``loss``, ``step``, ``growth``,
``profile``, ``demo``; see their modules).

Examples::

    python tools/analysis_tools/benchmark.py               # CPU, < 5 min
    python tools/analysis_tools/benchmark.py --sections profile
    python tools/analysis_tools/benchmark.py --device cuda --compile \\
        --out bench.json bench.md

The CPU defaults shrink the distillation step (batch 16 at 112 px) so the
whole run stays under 5 minutes on 2 cores.
"""
import argparse
import json
import sys
import time

import torch

from .demo_bench import demo_section
from .loss_bench import growth_section, loss_section
from .profile_counts import profile_section
from .report import markdown
from .step_bench import step_section, step_variants
from .timing import environment, load_average

DEFAULTS = dict(
    cpu=dict(warmup=2, repeats=7, step_warmup=1, step_repeats=5,
             loss_batch=32, step_batch=16, step_size=112,
             growth_batches=[4, 8, 16, 32], growth_batch=8,
             growth_sizes=[56, 112, 224, 448], profile_batch=2,
             profile_size=64),
    cuda=dict(warmup=10, repeats=50, step_warmup=10, step_repeats=30,
              loss_batch=32, step_batch=32, step_size=224,
              growth_batches=[8, 16, 32, 64, 128], growth_batch=32,
              growth_sizes=[112, 224, 448, 672], profile_batch=32,
              profile_size=224),
)
SECTIONS = ('loss', 'step', 'growth', 'profile')
#: Run only when asked for (``--sections demo``): the demo's CPU costs.
OPTIONAL_SECTIONS = ('demo', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time and profile DCT-driven attention distillation.')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda if available)')
    parser.add_argument('--sections', nargs='+', default=list(SECTIONS),
                        choices=SECTIONS + OPTIONAL_SECTIONS)
    parser.add_argument('--amp', action='store_true',
                        help='also time bfloat16 features and teachers')
    parser.add_argument('--compile', action='store_true',
                        help='also time the teacher and the loss compiled '
                        'with torch.compile (slow warm-up)')
    parser.add_argument('--variants', default=None,
                        help='regex: time only the distillation variants '
                        'it matches (plus plain distill, student, teacher)')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='let cuDNN autotune (the configs keep it off)')
    for key, value in DEFAULTS['cpu'].items():
        parser.add_argument('--' + key.replace('_', '-'), type=int,
                            nargs='+' if isinstance(value, list) else None,
                            default=None)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--out', nargs='+', default=[],
                        help='write results to .json and/or .md files')
    args = parser.parse_args(argv)
    args.device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    for key, value in DEFAULTS[args.device.type].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def run_section(name: str, args) -> dict:
    device = args.device
    if name == 'loss':
        return loss_section(device, args.loss_batch, args.warmup,
                            args.repeats, args.compile, args.amp)
    if name == 'step':
        variants = step_variants(device, args.amp, args.compile,
                                 args.variants)
        return step_section(device, args.step_batch, args.step_size,
                            args.step_warmup, args.step_repeats, variants)
    if name == 'demo':
        return demo_section(args.step_warmup, args.step_repeats)
    if name == 'growth':
        return growth_section(device, args.growth_batches,
                              args.growth_sizes, args.growth_batch,
                              max(1, args.warmup // 2),
                              max(3, args.repeats // 2))
    return profile_section(device, args.profile_batch, args.profile_size)


def write_outputs(results: dict, paths) -> str:
    text = markdown(results)
    for path in paths:
        with open(path, 'w') as f:
            if path.endswith('.json'):
                json.dump(results, f, indent=1)
            else:
                f.write(text)
    return text


def main(argv=None) -> dict:
    import dctkd_mm  # noqa: F401  (registers the plugin)
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    results = dict(environment=environment(args.device),
                   command='python tools/analysis_tools/benchmark.py ' +
                   ' '.join(sys.argv[1:] if argv is None else argv))
    for name in args.sections:
        before, start = load_average(), time.perf_counter()
        results[name] = run_section(name, args)
        results[name].update(load_before=before, load_after=load_average(),
                             seconds=round(time.perf_counter() - start, 1))
        print(f'[{name}] done in {results[name]["seconds"]} s',
              file=sys.stderr, flush=True)
    print(write_outputs(results, args.out))
    return results
