"""Loss benchmarks: ``DCTAttentionLoss`` against MMRazor's ``ATLoss`` on
ResNet-50 -> ResNet-18 stage features (56/28/14/7 px maps at 224 px;
student 64..512, teacher 256..2048 channels; teacher features without
gradient, as in distillation), forward + backward, as the configs call
them: ``ATLoss`` once per stage, ``DCTAttentionLoss`` once for all."""
import statistics
from typing import Dict, Tuple

import torch

from .profile_counts import count_step
from .timing import median_ms, peak_memory, spread, time_interleaved, to_mb
from .workloads import loss_step, stage_features


def build_losses(compile: bool, fuse_default: bool
                 ) -> Dict[str, Tuple[torch.nn.Module, bool]]:
    """name -> (loss, called once per stage). ``fuse_default``: whether
    ``DCTAttentionLoss`` fuses the stages by default on this device."""
    from mmrazor.models.losses import ATLoss

    from dctkd_mm.models.losses import DCTAttentionLoss
    losses = {
        'ATLoss (MMRazor)': (ATLoss(), True),
        "DCTAttentionLoss('dft_real')": (DCTAttentionLoss(), False),
        "DCTAttentionLoss('dct')": (DCTAttentionLoss(transform='dct'),
                                    False),
        "DCTAttentionLoss('dft_real', check_finite=False)": (
            DCTAttentionLoss(check_finite=False), False),
        # The other stacking of the stages than this device's default.
        "DCTAttentionLoss('dft_real', fuse_stages=not default)": (
            DCTAttentionLoss(fuse_stages=not fuse_default), False),
    }
    if compile:
        losses['ATLoss (MMRazor), compiled'] = (torch.compile(ATLoss()),
                                                True)
        losses["DCTAttentionLoss('dft_real', compile=True)"] = (
            DCTAttentionLoss(compile=True), False)
    return losses


def loss_section(device, batch: int, warmup: int, repeats: int,
                 compile: bool = False, amp: bool = False,
                 size: int = 224) -> dict:
    rows = []
    precisions = [('float32', None)]
    if amp:
        precisions.append(('bfloat16', torch.bfloat16))
    for label, dtype in precisions:
        students, teachers = stage_features(batch, size, device,
                                            dtype or torch.float32)
        losses = build_losses(compile, device.type == 'cuda')
        fns = {name: loss_step(loss, students, teachers, per_stage, dtype)
               for name, (loss, per_stage) in losses.items()}
        times = time_interleaved(fns, device, warmup, repeats)
        at = statistics.median(times['ATLoss (MMRazor)'])
        for name, fn in fns.items():
            med = statistics.median(times[name])
            counts = count_step(fn, device)
            rows.append(dict(
                loss=name, features=label, batch=batch, ms=median_ms(
                    times[name]), iqr=spread(times[name]),
                ratio_vs_at=med / at, samples_per_s=batch / med,
                aten_ops=counts['aten_ops'],
                host_syncs=counts['host_syncs'],
                cuda_kernel_launches=counts['cuda_kernel_launches'],
                peak_mb=to_mb(peak_memory(fn, device))))
    return dict(rows=rows)


def growth_section(device, batches, sizes, size_batch: int, warmup: int,
                   repeats: int) -> dict:
    """Loss time against batch size (224 px) and input size."""
    from mmrazor.models.losses import ATLoss

    from dctkd_mm.models.losses import DCTAttentionLoss
    losses = {'ATLoss': (ATLoss(), True), 'DCT': (DCTAttentionLoss(), False)}

    def point(batch, size):
        students, teachers = stage_features(batch, size, device)
        fns = {n: loss_step(loss, students, teachers, per_stage)
               for n, (loss, per_stage) in losses.items()}
        times = time_interleaved(fns, device, warmup, repeats)
        at, dct = (median_ms(times[n]) for n in ('ATLoss', 'DCT'))
        return dict(batch=batch, size=size, at_ms=at, dct_ms=dct,
                    ratio=dct / at, dct_ms_per_sample=dct / batch)

    return dict(by_batch=[point(b, 224) for b in batches],
                by_size=[point(size_batch, s) for s in sizes])
