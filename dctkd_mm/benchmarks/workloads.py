"""What the benchmarks run: stage features for the losses, the flagship's
distillation step and its parts (student step, teacher forward)."""
import contextlib
import copy
from typing import Callable, List, Optional, Tuple

import torch

from dctkd_mm.packaged_configs import config_file

# The flagship config, as the installed package carries it (the
# benchmarks time the project's own configs).
FLAGSHIP = config_file('dct_kd_r50_r18_places365.py')

# ResNet stage outputs at a 224 px input: (stride, student C, teacher C).
RESNET_STAGES = ((4, 64, 256), (8, 128, 512), (16, 256, 1024),
                 (32, 512, 2048))


def stage_features(batch: int, size: int, device, dtype=torch.float32,
                   seed: int = 0) -> Tuple[List[torch.Tensor],
                                           List[torch.Tensor]]:
    """Post-ReLU-like ResNet-18 student (with grad) and ResNet-50 teacher
    stage features for a ``size`` px input."""
    gen = torch.Generator().manual_seed(seed)
    students, teachers = [], []
    for stride, s_ch, t_ch in RESNET_STAGES:
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


def loss_step(loss: torch.nn.Module, students, teachers, per_stage: bool,
              amp_dtype=None) -> Callable[[], None]:
    """Forward + backward of a distillation loss as the configs run it:
    one call per stage (``per_stage``, e.g. MMRazor's ``ATLoss``), or one
    call with all stages (``DCTAttentionLoss`` under
    ``RecorderListDistiller``)."""
    device_type = students[0].device.type

    def run():
        with autocast(device_type, amp_dtype):
            if per_stage:
                total = sum(loss(s, t) for s, t in zip(students, teachers))
            else:
                total = loss(students, teachers)
        total.backward()
        for s in students:
            s.grad = None
    return run


def flagship_model_cfg(num_classes: Optional[int] = None, **loss_options):
    """The flagship's model config with a random teacher (random weights
    time the same); ``loss_options`` are set on every distillation loss."""
    from mmengine.config import Config
    cfg = Config.fromfile(FLAGSHIP).model
    cfg.teacher_ckpt = None
    if num_classes is not None:
        cfg.architecture.head.num_classes = num_classes
        cfg.teacher.head.num_classes = num_classes
    for loss in cfg.distiller.distill_losses.values():
        loss.update(loss_options)
    return cfg


def build_model(cfg, device, state_dict=None, teacher_fast=None):
    from mmrazor.registry import MODELS
    cfg = copy.deepcopy(cfg)
    if teacher_fast:
        cfg.teacher_fast = teacher_fast
    model = MODELS.build(cfg)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    model.to(device)
    model.train()
    return model


def batch_for(num_classes: int, batch: int, size: int, device, seed=0):
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 3, size, size, generator=gen).to(device)
    labels = torch.randint(num_classes, (batch, ), generator=gen)
    samples = [DataSample().set_gt_label(labels[i:i + 1]).to(device)
               for i in range(batch)]
    return inputs, samples


def optim_wrapper_for(model, amp: bool, device):
    """The config's SGD (momentum 0.9, wd 1e-4) at a small lr, so random
    data cannot diverge during a run; the lr does not change the cost."""
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    from dctkd_mm.engine.optimizers.autocast_optim_wrapper import \
        AutocastOptimWrapper
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9,
                                weight_decay=1e-4)
    if amp and device.type == 'cuda':
        return AmpOptimWrapper(optimizer=optimizer, dtype='bfloat16')
    if amp:  # MMEngine's AmpOptimWrapper is CUDA-only
        return AutocastOptimWrapper(optimizer=optimizer, dtype='bfloat16')
    return OptimWrapper(optimizer=optimizer)


def make_step(model, optim_wrapper, inputs, samples) -> Callable[[], None]:
    """One training step as MMEngine's ``train_step`` runs it."""
    def run():
        with optim_wrapper.optim_context(model):
            losses = model.loss(inputs, samples)
        parsed, _ = model.parse_losses(losses)
        optim_wrapper.update_params(parsed)
    return run


def make_teacher_forward(model, inputs, samples,
                         amp_dtype=None) -> Callable[[], None]:
    """The distiller's teacher forward alone, with its ``teacher_fast``."""
    fast = model.teacher_fast
    device_type = inputs.device.type

    def run():
        with autocast(device_type, amp_dtype):
            with fast.forward_context(device_type):
                model.teacher(fast.prepare_inputs(inputs), samples,
                              mode='loss')
    return run
