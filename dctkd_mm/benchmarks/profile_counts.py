"""Ops and host syncs a distillation step adds, counted with
``torch.profiler`` (works on a CPU too, so the launch and sync budget is
visible without a GPU).

Counted per step, the distillation step minus the student-only step on the
same batch (MMEngine's ``train_step``: ``loss``, ``parse_losses``,
backward, SGD update):

* ``aten_ops``: every ``aten::`` call, nested ones included (a proxy for
  kernel launches, which on a GPU are ``cuda_kernel_launches``);
* ``host_syncs``: ``aten::_local_scalar_dense``, the one op behind every
  device-to-host scalar read (``.item()``, ``bool(t)``, ``float(t)``,
  ``if t:``; ``aten::item`` and ``aten::is_nonzero`` are its callers and are
  listed, not added); plus ``aten::nonzero``, whose output size the host
  must wait for; plus, on CUDA, ``cudaStreamSynchronize``,
  ``cudaDeviceSynchronize`` and ``cudaEventSynchronize`` calls that are
  not part of such a scalar read.
"""
from collections import Counter
from typing import Callable, Dict

import torch
from torch.profiler import ProfilerActivity, profile

SCALAR_READ = 'aten::_local_scalar_dense'
SCALAR_CALLERS = ('aten::item', 'aten::is_nonzero')
SIZE_SYNCS = ('aten::nonzero', )
CUDA_SYNCS = ('cudaStreamSynchronize', 'cudaDeviceSynchronize',
              'cudaEventSynchronize')
KERNEL_LAUNCHES = ('cudaLaunchKernel', 'cuLaunchKernel', 'cudaLaunchKernelExC',
                   'cuLaunchKernelEx')


def count_step(fn: Callable[[], None], device: torch.device,
               steps: int = 1) -> Dict[str, float]:
    """Per-step counts of ``fn`` (run once untraced first, so lazy set-up
    is not counted)."""
    fn()
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
        torch.cuda.synchronize(device)
    with profile(activities=activities) as prof:
        for _ in range(steps):
            fn()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
    names = Counter(event.name for event in prof.events())
    # The profiler's own closing synchronize is not the step's.
    if device.type == 'cuda':
        names['cudaDeviceSynchronize'] -= 1
    scalar_reads = names[SCALAR_READ]
    cuda_syncs = sum(names[n] for n in CUDA_SYNCS)
    counts = dict(
        aten_ops=sum(n for name, n in names.items()
                     if name.startswith('aten::')),
        host_syncs=(scalar_reads + sum(names[n] for n in SIZE_SYNCS) +
                    max(0, cuda_syncs - scalar_reads)),
        cuda_kernel_launches=sum(names[n] for n in KERNEL_LAUNCHES),
    )
    for name in (SCALAR_READ, ) + SCALAR_CALLERS + SIZE_SYNCS + CUDA_SYNCS:
        counts[name] = names[name]
    return {key: value / steps for key, value in counts.items()}


def distillation_added_counts(distill_step: Callable[[], None],
                              student_step: Callable[[], None],
                              device: torch.device,
                              steps: int = 1) -> Dict[str, dict]:
    """Counts of both steps and what distillation adds (their difference)."""
    distill = count_step(distill_step, device, steps)
    student = count_step(student_step, device, steps)
    added = {key: distill[key] - student[key] for key in distill}
    return dict(distill_step=distill, student_step=student, added=added)


def flagship_step_counts(device: torch.device, batch: int = 2,
                         size: int = 64, num_classes: int = 5,
                         steps: int = 1, **loss_options) -> Dict[str, dict]:
    """:func:`distillation_added_counts` for a real step of the flagship
    config's distiller (random teacher) on a random batch;
    ``loss_options`` (e.g. ``check_finite=False``) go to its losses."""
    from .workloads import (batch_for, build_model, flagship_model_cfg,
                            make_step, make_teacher_forward,
                            optim_wrapper_for)
    cfg = flagship_model_cfg(num_classes, **loss_options)
    torch.manual_seed(0)
    model = build_model(cfg, device)
    inputs, samples = batch_for(num_classes, batch, size, device)
    distill = make_step(model, optim_wrapper_for(model, False, device),
                        inputs, samples)
    student = make_step(model.student,
                        optim_wrapper_for(model.student, False, device),
                        inputs, samples)
    counts = distillation_added_counts(distill, student, device, steps)
    # What the recorders and the losses add beyond the teacher's forward.
    teacher = count_step(make_teacher_forward(model, inputs, samples),
                         device, steps)
    counts['teacher_forward'] = teacher
    counts['added_beyond_teacher'] = {
        key: counts['added'][key] - teacher[key] for key in teacher}
    return counts


def profile_section(device: torch.device, batch: int, size: int) -> dict:
    """Counts for the flagship step with and without the finite check."""
    return dict(batch=batch, size=size, variants={
        'check_finite=True': flagship_step_counts(device, batch, size),
        'check_finite=False': flagship_step_counts(device, batch, size,
                                                   check_finite=False),
    })
