"""Trainable blocks that replace named blocks of a frozen teacher.

This is our reading of the "activation map adaptive module" of Wu et al.,
*Activation Map Adaptation for Effective Knowledge Distillation* (2020,
arXiv 2010.13500), whose abstract is all that could be found: the module
"replaces some blocks of the teacher network" and explores "the most
appropriate supervisory features adaptively during the training process".
Everything else here is a choice, listed in docs/adaptive_module.md.

The module replacing a block is a trainable copy of it: same layers,
widths and strides, so it has the replaced block's input and output
shapes. It starts from the block's weights (``init='teacher'``: at step 0
the teacher computes exactly what it did) or from a fresh initialisation
(``init='scratch'``). It is put in the block's place, under the block's
name, so recorders and checkpoints keep using the names the teacher had.
"""
import copy
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.model import constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['AdaptiveModuleConfig', 'replace_blocks']

INITS = ('teacher', 'scratch')


@dataclass(frozen=True)
class AdaptiveModuleConfig:
    """``model.adaptive_module`` of an ``AdaptiveTeacherDistill`` config.

    Args:
        blocks (str | Sequence[str]): Names of the teacher blocks to
            replace, as in ``teacher.named_modules()``, e.g.
            ``'backbone.layer3.5'``. None may contain another.
        init (str): ``'teacher'`` (start from the replaced block's weights)
            or ``'scratch'`` (Kaiming-normal convs, unit norms, zero
            biases, fresh BatchNorm statistics). Defaults to ``'teacher'``.
        teacher_loss_weight (float): Weight of the teacher's classification
            loss through the adapted teacher (logged as ``teacher.loss``).
            Only the module can learn from it. Defaults to 1.0.
        distill_grad (bool): Whether the distillation losses' gradient also
            reaches the module through the recorded teacher outputs. If
            False they are detached, and only the teacher loss trains it.
            Defaults to True.
    """

    blocks: Tuple[str, ...]
    init: str = 'teacher'
    teacher_loss_weight: float = 1.0
    distill_grad: bool = True

    def __post_init__(self) -> None:
        if not self.blocks:
            raise ValueError('adaptive_module.blocks is empty: name the '
                             "teacher block(s) to replace, e.g. "
                             "'backbone.layer3.5'")
        for name in self.blocks:
            if not isinstance(name, str) or not name:
                raise ValueError('adaptive_module.blocks must hold module '
                                 f'names of the teacher, got {name!r}')
        for a in self.blocks:
            for b in self.blocks:
                if a != b and b.startswith(a + '.'):
                    raise ValueError(f"adaptive_module.blocks: '{b}' is "
                                     f"inside '{a}'; name each block once")
        if len(set(self.blocks)) != len(self.blocks):
            raise ValueError('adaptive_module.blocks names a block twice: '
                             f'{list(self.blocks)}')
        if self.init not in INITS:
            raise ValueError(f'adaptive_module.init must be one of {INITS}, '
                             f'got {self.init!r}')
        if not self.teacher_loss_weight >= 0:
            raise ValueError('adaptive_module.teacher_loss_weight must be '
                             f'>= 0, got {self.teacher_loss_weight!r}')
        if self.teacher_loss_weight == 0 and not self.distill_grad:
            raise ValueError(
                'adaptive_module: with teacher_loss_weight=0 and '
                'distill_grad=False no loss reaches the module, so it would '
                'never train; set one of them.')

    @classmethod
    def build(cls, cfg: Union[dict, 'AdaptiveModuleConfig']
              ) -> 'AdaptiveModuleConfig':
        if isinstance(cfg, cls):
            return cfg
        if not isinstance(cfg, dict):
            raise TypeError('adaptive_module must be a dict, got '
                            f'{type(cfg).__name__}')
        known = ('blocks', 'init', 'teacher_loss_weight', 'distill_grad')
        unknown = sorted(set(cfg) - set(known))
        if unknown:
            raise ValueError(f'adaptive_module: unknown option(s) {unknown}; '
                             f'known: {list(known)}')
        if 'blocks' not in cfg:
            raise ValueError('adaptive_module needs `blocks`: the teacher '
                             "block(s) to replace, e.g. 'backbone.layer3.5'")
        kwargs = dict(cfg)
        blocks = kwargs.pop('blocks')
        blocks = (blocks, ) if isinstance(blocks, str) else tuple(blocks)
        return cls(blocks=blocks, **kwargs)


def _children_hint(model: nn.Module, name: str) -> str:
    parent = name.rpartition('.')[0]
    try:
        children = [n for n, _ in model.get_submodule(parent).named_children()]
    except AttributeError:
        return ''
    where = f"'{parent}'" if parent else 'the teacher'
    return f' Under {where} there are: {children}.'


def reinitialise(module: nn.Module) -> None:
    """Fresh weights as MMPretrain's ResNets get them (Kaiming-normal,
    fan-out convs; unit norm weights; zero biases; reset statistics)."""
    for m in module.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            kaiming_init(m, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
            constant_init(m, 1)
            if isinstance(m, _BatchNorm):
                m.reset_running_stats()
        elif isinstance(m, nn.Linear):
            m.reset_parameters()


def replace_blocks(teacher: nn.Module, blocks: Sequence[str],
                   init: str = 'teacher') -> Dict[str, nn.Module]:
    """Put a trainable copy of each named block of ``teacher`` in its
    place; returns ``{name: module}``. The copies' parameters require
    gradients; the rest of the teacher is left as it is."""
    modules = {}
    for name in blocks:
        try:
            block = teacher.get_submodule(name)
        except AttributeError:
            raise ValueError(
                f"adaptive_module.blocks: '{name}' is not a module of the "
                f'teacher ({type(teacher).__name__}).' +
                _children_hint(teacher, name)) from None
        if not any(True for _ in block.parameters()):
            raise ValueError(f"adaptive_module.blocks: '{name}' "
                             f'({type(block).__name__}) has no parameters, '
                             'so there is nothing to adapt')
        module = copy.deepcopy(block)
        if init == 'scratch':
            reinitialise(module)
        for param in module.parameters():
            param.requires_grad = True
        parent_name, _, child = name.rpartition('.')
        parent = teacher.get_submodule(parent_name)
        setattr(parent, child, module)
        modules[name] = module
    return modules

