"""Benchmark DCT-driven attention distillation side by side.

Sections (each timed in one process, variants interleaved round-robin so
load drift hits all of them alike; medians after warm-up; CUDA work is
synchronised before the clock is read):

* ``loss``: forward + backward of ``DCTAttentionLoss`` ('dct' and
  'reference') and MMRazor's ``ATLoss`` on ResNet-50 -> ResNet-18 stage
  features (stages 1-4: 56/28/14/7 px at 224 input; student 64..512,
  teacher 256..2048 channels). Teacher features carry no gradient, as in
  distillation. Ratios are against ``ATLoss``.
* ``step``: one SGD step of the flagship config's ``FrozenTeacherDistill``
  (plain and with each ``teacher_fast`` option) against the student-only
  step and the teacher forward alone; overhead = distill step /
  (student step + teacher forward).
* ``growth``: loss time against batch size and against input resolution.

Memory, taken in a separate, untimed call: on CUDA,
``torch.cuda.max_memory_allocated`` above what was allocated before the
call (tensors only, not the caching allocator's reserve or the context).
On CPU (Linux), the peak resident set size during the call above the RSS
before it, after ``malloc_trim`` and a reset of the kernel's high-water
mark: everything the process touched (tensors, oneDNN scratch, allocator
slack), so a few MB of noise on small calls.

Examples::

    python tools/benchmark.py                      # CPU, < 5 min
    python tools/benchmark.py --device cuda --amp --compile \\
        --out bench.json bench.md

The CPU defaults shrink the distillation step (batch 16 at 112 px) so the
whole run stays under 5 minutes on 2 cores; pass ``--step-batch`` /
``--step-size`` for other sizes.
"""
import argparse
import contextlib
import copy
import ctypes
import json
import os
import os.path as osp
import platform
import re
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FLAGSHIP = osp.join(REPO, 'configs', 'dct_kd_r50_r18_places365.py')

# ResNet stage outputs at a 224 px input: (stride, student C, teacher C).
STAGES = ((4, 64, 256), (8, 128, 512), (16, 256, 1024), (32, 512, 2048))

DEFAULTS = dict(
    cpu=dict(warmup=2, repeats=7, step_warmup=1, step_repeats=5,
             loss_batch=32, step_batch=16, step_size=112,
             growth_batches=[4, 8, 16, 32], growth_batch=8,
             growth_sizes=[56, 112, 224, 448]),
    cuda=dict(warmup=10, repeats=50, step_warmup=10, step_repeats=30,
              loss_batch=32, step_batch=32, step_size=224,
              growth_batches=[8, 16, 32, 64, 128], growth_batch=32,
              growth_sizes=[112, 224, 448, 672]),
)


# --------------------------------------------------------------- timing

def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_interleaved(fns: Dict[str, Callable[[], None]], device,
                     warmup: int, repeats: int,
                     failures: Optional[Dict[str, str]] = None
                     ) -> Dict[str, List[float]]:
    """Seconds per call of each function, one call of each per round.

    With ``failures`` given, a function that raises during warm-up is
    dropped (its error recorded there) instead of ending the run.
    """
    for name, fn in list(fns.items()):
        try:
            for _ in range(warmup):
                fn()
        except Exception as exc:  # noqa: BLE001 (reported, not hidden)
            if failures is None:
                raise
            failures[name] = f'{type(exc).__name__}: {exc}'[:500]
            del fns[name]
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def _proc_status_bytes(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_memory(fn: Callable[[], None], device) -> Optional[int]:
    """Peak bytes ``fn`` adds: tensors on CUDA, resident memory on CPU."""
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    # CPU (Linux): hand freed heap back to the OS so it is not reused
    # unseen, reset the resident-set high-water mark (clear_refs "5"),
    # then read it after the call: the peak RSS growth during the call.
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        base = _proc_status_bytes('VmRSS')
    except OSError:
        return None  # not Linux/glibc: no honest number, report none
    fn()
    return _proc_status_bytes('VmHWM') - base


def to_mb(nbytes: Optional[int]) -> Optional[float]:
    return None if nbytes is None else nbytes / 2**20


def median_ms(samples: List[float]) -> float:
    return 1e3 * statistics.median(samples)


def spread(samples: List[float]) -> float:
    """Interquartile range over the median: how noisy the row is."""
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) / statistics.median(samples)


def load_average() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ----------------------------------------------------------------- loss

def stage_features(batch: int, size: int, device, dtype=torch.float32):
    """Post-ReLU-like student (with grad) and teacher features."""
    gen = torch.Generator().manual_seed(0)
    students, teachers = [], []
    for stride, s_ch, t_ch in STAGES:
        hw = max(1, size // stride)
        s = torch.randn(batch, s_ch, hw, hw, generator=gen).relu_()
        t = torch.randn(batch, t_ch, hw, hw, generator=gen).relu_()
        students.append(s.to(device, dtype).requires_grad_())
        teachers.append(t.to(device, dtype))
    return students, teachers


def autocast(device_type: str, dtype: Optional[torch.dtype]):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype)


def loss_step(loss: torch.nn.Module, students, teachers, amp_dtype=None):
    """Forward + backward of one loss call per stage, as a config with one
    loss per stage runs it."""
    device_type = students[0].device.type

    def run():
        with autocast(device_type, amp_dtype):
            total = sum(loss(s, t) for s, t in zip(students, teachers))
        total.backward()
        for s in students:
            s.grad = None
    return run


def build_losses(args) -> Dict[str, torch.nn.Module]:
    from mmrazor.models.losses import ATLoss

    from dctkd_mm.models.losses import DCTAttentionLoss
    losses = {
        'ATLoss (MMRazor)': ATLoss(),
        "DCTAttentionLoss('dct')": DCTAttentionLoss(),
        "DCTAttentionLoss('reference')": DCTAttentionLoss(
            transform='reference'),
        "DCTAttentionLoss('dct', check_finite=False)": DCTAttentionLoss(
            check_finite=False),
    }
    if args.compile:
        losses["DCTAttentionLoss('dct', compile=True)"] = DCTAttentionLoss(
            compile=True)
    return losses


def loss_section(args, device) -> dict:
    rows = []
    precisions = [('float32', None)]
    if args.amp:
        precisions.append(('bfloat16', torch.bfloat16))
    for label, dtype in precisions:
        students, teachers = stage_features(args.loss_batch, 224, device,
                                            dtype or torch.float32)
        fns = {name: loss_step(loss, students, teachers, dtype)
               for name, loss in build_losses(args).items()}
        times = time_interleaved(fns, device, args.warmup, args.repeats)
        at = statistics.median(times['ATLoss (MMRazor)'])
        for name, fn in fns.items():
            rows.append(dict(
                loss=name, features=label, batch=args.loss_batch,
                ms=median_ms(times[name]), iqr=spread(times[name]),
                ratio_vs_at=statistics.median(times[name]) / at,
                samples_per_s=args.loss_batch / statistics.median(
                    times[name]),
                peak_mb=to_mb(peak_memory(fn, device))))
    return dict(rows=rows)


def growth_section(args, device) -> dict:
    from mmrazor.models.losses import ATLoss

    from dctkd_mm.models.losses import DCTAttentionLoss
    losses = {'ATLoss': ATLoss(), 'DCT': DCTAttentionLoss()}

    def point(batch, size):
        students, teachers = stage_features(batch, size, device)
        fns = {n: loss_step(l, students, teachers) for n, l in losses.items()}
        times = time_interleaved(fns, device, max(1, args.warmup // 2),
                                 max(3, args.repeats // 2))
        at, dct = (median_ms(times[n]) for n in ('ATLoss', 'DCT'))
        return dict(batch=batch, size=size, at_ms=at, dct_ms=dct,
                    ratio=dct / at, dct_ms_per_sample=dct / batch)

    by_batch = [point(b, 224) for b in args.growth_batches]
    by_size = [point(args.growth_batch, s) for s in args.growth_sizes]
    return dict(by_batch=by_batch, by_size=by_size)


# ----------------------------------------------------------------- step

def flagship_model_cfg():
    from mmengine.config import Config
    cfg = Config.fromfile(FLAGSHIP).model
    cfg.teacher_ckpt = None  # random weights time the same
    return cfg


def step_variants(args) -> Dict[str, Optional[dict]]:
    """Distillation variants: name -> ``teacher_fast`` options (the keys
    ``check_finite`` and ``compile_loss`` set those of the losses)."""
    fast_all = dict(inference_mode=True, channels_last=True,
                    autocast_dtype='bfloat16', feature_dtype=None)
    variants = {
        'distill': None,
        'distill + inference_mode': dict(inference_mode=True),
        'distill + channels_last': dict(channels_last=True),
        'distill, check_finite=False': dict(check_finite=False),
    }
    # Reduced precision pays on hardware with bf16/fp16 units; a CPU
    # without them emulates it slowly, so there it is opt-in (--amp).
    if args.device.type == 'cuda' or args.amp:
        variants.update({
            'distill + bf16 teacher': dict(autocast_dtype='bfloat16'),
            'distill + bf16 teacher, bf16 features': dict(
                autocast_dtype='bfloat16', feature_dtype=None),
            'distill + all fast (inf, CL, bf16, bf16 features)': fast_all,
        })
    if args.device.type == 'cuda':
        variants['distill + fp16 teacher'] = dict(autocast_dtype='float16')
        variants['distill + channels_last + bf16 teacher'] = dict(
            channels_last=True, autocast_dtype='bfloat16')
    if args.compile:
        variants['distill + all fast + compiled teacher'] = dict(
            fast_all, compile=True)
        variants['distill + compiled loss'] = dict(compile_loss=True)
        variants['distill + compiled loss + all fast + compiled teacher'] = \
            dict(fast_all, compile=True, compile_loss=True)
    if args.variants:
        variants = {name: fast for name, fast in variants.items()
                    if name == 'distill' or re.search(args.variants, name)}
    return variants


def make_step(model, optim_wrapper, inputs, samples):
    def run():
        with optim_wrapper.optim_context(model):
            losses = model.loss(inputs, samples)
        parsed, _ = model.parse_losses(losses)
        optim_wrapper.update_params(parsed)
    return run


def make_teacher_forward(model, inputs, samples, amp_dtype=None):
    fast = model.teacher_fast
    device_type = inputs.device.type

    def run():
        with autocast(device_type, amp_dtype):
            with fast.forward_context(device_type):
                model.teacher(fast.prepare_inputs(inputs), samples,
                              mode='loss')
    return run


def optim_wrapper_for(params, amp: bool, device):
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    from dctkd_mm.engine.optimizers.autocast_optim_wrapper import \
        AutocastOptimWrapper

    # The config's SGD (momentum 0.9, wd 1e-4) at a small lr, so random
    # data cannot diverge during the run; the lr does not change the cost.
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9,
                                weight_decay=1e-4)
    if amp and device.type == 'cuda':
        return AmpOptimWrapper(optimizer=optimizer, dtype='bfloat16')
    if amp:  # MMEngine's AmpOptimWrapper is CUDA-only
        return AutocastOptimWrapper(optimizer=optimizer, dtype='bfloat16')
    return OptimWrapper(optimizer=optimizer)


def step_section(args, device) -> dict:
    from mmpretrain.structures import DataSample
    from mmrazor.registry import MODELS

    cfg = flagship_model_cfg()
    num_classes = cfg.architecture.head.num_classes
    gen = torch.Generator().manual_seed(0)
    batch, size = args.step_batch, args.step_size
    inputs = torch.randn(batch, 3, size, size, generator=gen).to(device)
    labels = torch.randint(num_classes, (batch, ), generator=gen)
    samples = [DataSample().set_gt_label(int(i)).to(device) for i in labels]

    torch.manual_seed(0)
    base = MODELS.build(copy.deepcopy(cfg)).to(device)
    base.train()
    state = base.state_dict()

    def build(fast):
        model_cfg = copy.deepcopy(cfg)
        fast = dict(fast or {})
        for key in ('check_finite', 'compile_loss'):
            if key in fast:
                value = fast.pop(key)
                for loss in model_cfg.distiller.distill_losses.values():
                    loss[key.replace('_loss', '')] = value
        if fast:
            model_cfg.teacher_fast = fast
        model = MODELS.build(model_cfg)
        model.load_state_dict(state)
        model.to(device).train()
        return model

    def trainable(model):
        return [p for p in model.parameters() if p.requires_grad]

    fns = {}
    amp_modes = [False, True] if args.amp else [False]
    for amp in amp_modes:
        tag = ' [AMP bf16]' if amp else ''
        amp_dtype = torch.bfloat16 if amp else None
        # The student-only step trains the student of an algorithm no
        # distillation variant uses (recorders idle).
        student = (base if not amp else build(None)).student
        fns['student step' + tag] = make_step(
            student, optim_wrapper_for(trainable(student), amp, device),
            inputs, samples)
        fns['teacher forward' + tag] = make_teacher_forward(
            base, inputs, samples, amp_dtype)
        names = step_variants(args) if not amp else {
            'distill': None,
            'distill + inference_mode, channels_last': dict(
                inference_mode=True, channels_last=True),
        }
        for name, fast in names.items():
            model = build(fast)
            fns[name + tag] = make_step(
                model, optim_wrapper_for(trainable(model), amp, device),
                inputs, samples)
            if fast and not amp and not {'check_finite', 'compile_loss'} & \
                    set(fast):
                fns['teacher forward, ' + name[len('distill + '):]] = \
                    make_teacher_forward(model, inputs, samples)

    failures = {}
    times = time_interleaved(fns, device, args.step_warmup,
                             args.step_repeats, failures)
    med = {name: statistics.median(t) for name, t in times.items()}
    rows = []
    for name, fn in fns.items():
        tag = ' [AMP bf16]' if name.endswith(' [AMP bf16]') else ''
        row = dict(variant=name, ms=median_ms(times[name]),
                   iqr=spread(times[name]),
                   images_per_s=batch / med[name],
                   peak_mb=to_mb(peak_memory(fn, device)))
        if name.startswith('distill'):
            row['overhead'] = med[name] / (med['student step' + tag] +
                                           med['teacher forward' + tag])
            row['vs_plain_distill'] = med[name] / med['distill' + tag]
        rows.append(row)
    return dict(batch=batch, size=size, rows=rows, failures=failures)


# ---------------------------------------------------------------- report

def environment(device) -> dict:
    env = dict(python=platform.python_version(), torch=torch.__version__,
               device=str(device), threads=torch.get_num_threads(),
               cpu=platform.processor() or platform.machine(),
               cpu_count=os.cpu_count())
    if device.type == 'cuda':
        env['gpu'] = torch.cuda.get_device_name(device)
        env['cudnn_tf32'] = torch.backends.cudnn.allow_tf32
        env['cudnn_benchmark'] = torch.backends.cudnn.benchmark
    return env


def fmt_mb(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:.0f}'


def markdown(results: dict) -> str:
    out = []
    env = results['environment']
    out.append('Environment: ' + ', '.join(f'{k}={v}' for k, v in env.items()))
    out.append(f"Command: `{results['command']}`")
    if 'loss' in results:
        sec = results['loss']
        out.append(f"\n### Loss forward+backward, 4 ResNet stages "
                   f"(load {sec['load_before']} -> {sec['load_after']})\n")
        out.append('| loss | features | batch | median ms | IQR/median | '
                   'vs ATLoss | samples/s | peak MB |')
        out.append('|---|---|---|---|---|---|---|---|')
        for r in sec['rows']:
            out.append(f"| {r['loss']} | {r['features']} | {r['batch']} | "
                       f"{r['ms']:.2f} | {r['iqr']:.2f} | "
                       f"{r['ratio_vs_at']:.2f}x | {r['samples_per_s']:.0f} "
                       f"| {fmt_mb(r['peak_mb'])} |")
    if 'step' in results:
        sec = results['step']
        out.append(f"\n### Training step, batch {sec['batch']} at "
                   f"{sec['size']} px (load {sec['load_before']} -> "
                   f"{sec['load_after']})\n")
        out.append('| variant | median ms | IQR/median | images/s | '
                   'peak MB | overhead | vs plain distill |')
        out.append('|---|---|---|---|---|---|---|')
        for r in sec['rows']:
            over = f"{r['overhead']:.3f}x" if 'overhead' in r else ''
            rel = (f"{r['vs_plain_distill']:.3f}x"
                   if 'vs_plain_distill' in r else '')
            out.append(f"| {r['variant']} | {r['ms']:.1f} | {r['iqr']:.2f} "
                       f"| {r['images_per_s']:.1f} | {fmt_mb(r['peak_mb'])} | "
                       f"{over} | {rel} |")
        for name, error in sec['failures'].items():
            out.append(f'\nFailed in warm-up, not timed: {name}: {error}')
    if 'growth' in results:
        sec = results['growth']
        for key, title in (('by_batch', 'batch size (224 px input)'),
                           ('by_size', 'input size (batch '
                            f"{sec['by_size'][0]['batch']})")):
            out.append(f"\n### Loss fwd+bwd against {title} "
                       f"(load {sec['load_before']} -> {sec['load_after']})\n")
            out.append('| batch | input px | stage-1 map | ATLoss ms | '
                       'DCT ms | DCT/AT | DCT ms/sample |')
            out.append('|---|---|---|---|---|---|---|')
            for r in sec[key]:
                out.append(f"| {r['batch']} | {r['size']} | "
                           f"{r['size'] // 4} | {r['at_ms']:.2f} | "
                           f"{r['dct_ms']:.2f} | {r['ratio']:.2f}x | "
                           f"{r['dct_ms_per_sample']:.3f} |")
    return '\n'.join(out) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda if available)')
    parser.add_argument('--sections', nargs='+',
                        default=['loss', 'step', 'growth'],
                        choices=['loss', 'step', 'growth'])
    parser.add_argument('--amp', action='store_true',
                        help='also time bfloat16 features / AMP steps')
    parser.add_argument('--compile', action='store_true',
                        help='also time the teacher and the loss compiled '
                        'with torch.compile (slow warm-up)')
    parser.add_argument('--variants', default=None,
                        help='regex: time only the distillation variants '
                        'it matches (plus plain distill, student, teacher)')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='let cuDNN autotune (the configs keep it off)')
    for key in DEFAULTS['cpu']:
        kind = int
        nargs = '+' if isinstance(DEFAULTS['cpu'][key], list) else None
        parser.add_argument('--' + key.replace('_', '-'), type=kind,
                            nargs=nargs, default=None)
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


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    import dctkd_mm  # noqa: F401  (registers the plugin)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    results = dict(environment=environment(args.device),
                   command='python tools/benchmark.py ' +
                   ' '.join(sys.argv[1:] if argv is None else argv))
    sections = dict(loss=loss_section, step=step_section,
                    growth=growth_section)
    for name in args.sections:
        before = load_average()
        start = time.perf_counter()
        results[name] = sections[name](args, args.device)
        results[name].update(load_before=before, load_after=load_average(),
                             seconds=round(time.perf_counter() - start, 1))
        print(f'[{name}] done in {results[name]["seconds"]} s',
              file=sys.stderr, flush=True)
    text = markdown(results)
    print(text)
    for path in args.out:
        with open(path, 'w') as f:
            if path.endswith('.json'):
                json.dump(results, f, indent=1)
            else:
                f.write(text)
    return results


if __name__ == '__main__':
    main()
