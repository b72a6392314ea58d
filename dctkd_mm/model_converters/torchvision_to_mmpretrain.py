"""Convert a torchvision-layout checkpoint (CSAIL Places365, the authors',
or a torchvision model-zoo file) into an MMPretrain ``ImageClassifier``
checkpoint that loads strictly into the zoo's teachers and students.

The source is read only through :func:`dctkd_mm.compat.load_checkpoint_file`
(safe loading: tensors and plain containers). The converted weights are
loaded strictly into a freshly built MMPretrain model before anything is
written, so a file that is written is one that loads.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict

import torch

from dctkd_mm.compat import load_checkpoint_file
from .checkpoint_formats import unwrap_checkpoint
from .output_files import refuse_overwriting_inputs, save_atomically
from .torchvision_layouts import detect_architecture, to_mmpretrain

_BN_STATS = ('running_mean', 'running_var')


@dataclass
class Conversion:
    """What :func:`convert_checkpoint` found and wrote."""
    source_format: str
    arch: str
    num_classes: int
    num_tensors: int
    added_bn_counters: int
    dst: str

    def summary(self) -> str:
        text = (f'{self.source_format} checkpoint: {self.arch}, '
                f'{self.num_classes} classes, {self.num_tensors} tensors '
                f'-> {self.dst}')
        if self.added_bn_counters:
            text += (f' (added {self.added_bn_counters} BatchNorm '
                     'num_batches_tracked counters missing in the source)')
        return text


def model_config(arch: str, num_classes: int) -> dict:
    """The MMPretrain classifier the converted weights are meant for."""
    if arch == 'mobilenet_v2':
        backbone = dict(type='MobileNetV2', widen_factor=1.0)
        in_channels = 1280
    else:
        depth = int(arch[len('resnet'):])
        backbone = dict(type='ResNet', depth=depth, num_stages=4,
                        out_indices=(3, ), style='pytorch')
        in_channels = 512 if depth < 50 else 2048
    return dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=in_channels))


def build_classifier(arch: str, num_classes: int) -> torch.nn.Module:
    from mmpretrain.registry import MODELS
    return MODELS.build(model_config(arch, num_classes))


def _add_bn_counters(state_dict: Dict[str, torch.Tensor]) -> int:
    """PyTorch < 0.4.1 checkpoints (CSAIL's) have no ``num_batches_tracked``;
    strict loading needs it. Add 0 (it only matters for momentum=None)."""
    added = 0
    for key in list(state_dict):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            if counter not in state_dict:
                state_dict[counter] = torch.tensor(0, dtype=torch.long)
                added += 1
    return added


def convert_state_dict(obj, source: str = '<checkpoint>'):
    """``(mmpretrain_state_dict, Conversion)`` from a loaded checkpoint,
    verified by a strict load into the MMPretrain model."""
    state_dict, fmt = unwrap_checkpoint(obj, source)
    arch, num_classes = detect_architecture(state_dict, source)
    added = _add_bn_counters(state_dict)
    converted = to_mmpretrain(state_dict, arch)
    model = build_classifier(arch, num_classes)
    result = model.load_state_dict(converted, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f'missing {result.missing_keys[:10]}')
    if result.unexpected_keys:
        problems.append(f'unexpected {result.unexpected_keys[:10]}')
    if problems:
        raise ValueError(f'{source}: the {arch} weights do not fill the '
                         f'MMPretrain model: {"; ".join(problems)}.')
    info = Conversion(fmt, arch, num_classes, len(converted), added, '')
    return converted, info


def convert_checkpoint(src: str, dst: str, force: bool = False) -> Conversion:
    """Read ``src`` safely, convert it and save an MMEngine-style checkpoint
    ``{'state_dict': ..., 'meta': ...}`` at ``dst``. ``dst`` may be ``src``
    only with ``force`` (:class:`~.output_files.OverwriteInputError`
    otherwise, before anything is read)."""
    refuse_overwriting_inputs([dst], [src], force)
    obj = load_checkpoint_file(src, map_location='cpu')
    converted, info = convert_state_dict(obj, source=src)
    info.dst = dst
    meta = dict(converted_from=osp.basename(src),
                source_format=info.source_format, arch=info.arch,
                num_classes=info.num_classes)
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    save_atomically(dict(state_dict=converted, meta=meta), dst)
    return info
