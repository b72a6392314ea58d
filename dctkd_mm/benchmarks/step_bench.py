"""Training-step benchmark of the flagship config's ``FrozenTeacherDistill``:
each distillation variant against the student-only step and the teacher
forward alone; overhead = distill step / (student step + teacher
forward)."""
import re
import statistics
from typing import Dict, Optional

import torch

from .timing import median_ms, peak_memory, spread, time_interleaved, to_mb
from .workloads import (batch_for, build_model, flagship_model_cfg,
                        make_step, make_teacher_forward, optim_wrapper_for)

# Variant name -> dict(teacher_fast=..., loss=...) options.
FAST_ALL = dict(inference_mode=True, channels_last=True,
                autocast_dtype='bfloat16', feature_dtype=None)


def step_variants(device: torch.device, amp: bool = False,
                  compile: bool = False,
                  pattern: Optional[str] = None) -> Dict[str, dict]:
    variants = {
        'distill': {},
        'distill, check_finite=False': dict(loss=dict(check_finite=False)),
        'distill + inference_mode': dict(
            teacher_fast=dict(inference_mode=True)),
        'distill + channels_last': dict(
            teacher_fast=dict(channels_last=True)),
    }
    # Reduced precision pays on hardware with bf16/fp16 units; a CPU
    # without them emulates it slowly, so there it is opt-in (--amp).
    if device.type == 'cuda' or amp:
        variants.update({
            'distill + bf16 teacher': dict(
                teacher_fast=dict(autocast_dtype='bfloat16')),
            'distill + all fast (inf, CL, bf16, bf16 features)': dict(
                teacher_fast=FAST_ALL),
        })
    if compile:
        variants['distill + compiled loss'] = dict(loss=dict(compile=True))
        variants['distill + all fast + compiled teacher and loss'] = dict(
            teacher_fast=dict(FAST_ALL, compile=True),
            loss=dict(compile=True))
    if pattern:
        variants = {name: spec for name, spec in variants.items()
                    if name == 'distill' or re.search(pattern, name)}
    return variants


def step_section(device, batch: int, size: int, warmup: int, repeats: int,
                 variants: Dict[str, dict], num_classes: int = 365) -> dict:
    cfg = flagship_model_cfg(num_classes)
    inputs, samples = batch_for(num_classes, batch, size, device)
    torch.manual_seed(0)
    base = build_model(cfg, device)
    state = base.state_dict()
    # The student-only step trains the student of an algorithm no
    # distillation variant uses (its recorders stay idle).
    fns = {
        'student step': make_step(base.student,
                                  optim_wrapper_for(base.student, False,
                                                    device), inputs,
                                  samples),
        'teacher forward': make_teacher_forward(base, inputs, samples),
    }
    for name, spec in variants.items():
        model = build_model(flagship_model_cfg(num_classes,
                                               **spec.get('loss', {})),
                            device, state, spec.get('teacher_fast'))
        fns[name] = make_step(model, optim_wrapper_for(model, False, device),
                              inputs, samples)
        if spec.get('teacher_fast') and not spec.get('loss'):
            fns['teacher forward, ' + name[len('distill + '):]] = \
                make_teacher_forward(model, inputs, samples)
    failures: Dict[str, str] = {}
    times = time_interleaved(fns, device, warmup, repeats, failures)
    med = {name: statistics.median(t) for name, t in times.items()}
    rows = []
    for name in times:
        row = dict(variant=name, ms=median_ms(times[name]),
                   iqr=spread(times[name]), images_per_s=batch / med[name],
                   peak_mb=to_mb(peak_memory(fns[name], device)))
        if name.startswith('distill'):
            row['overhead'] = med[name] / (med['student step'] +
                                           med['teacher forward'])
            row['vs_plain_distill'] = med[name] / med['distill']
        rows.append(row)
    return dict(batch=batch, size=size, rows=rows, failures=failures)
