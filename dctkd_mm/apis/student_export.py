"""Turn a distillation checkpoint into a plain MMPretrain student.

A distillation run saves one ``state_dict`` for the whole algorithm: the
student under ``architecture.``, the frozen teacher under ``teacher.`` and
trainable distillation parts (connectors, adapters) under ``distiller.``.
:func:`export_student` keeps only the student, renamed as MMPretrain names
it, and writes a config that MMPretrain builds without MMRazor: the
student's model dict with MMPretrain scopes resolved, and the algorithm's
data preprocessor moved into it (the student's own one, unused during
distillation, has no normalisation).
"""
import copy
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.model_converters.output_files import (refuse_overwriting_inputs,
                                                    save_atomically)

from .plain_config import (is_foreign, plain_dataloaders, plain_types,
                           resolve_type)

STUDENT_PREFIX = 'architecture.'
#: Top-level config keys only the distillation run uses (``work_dir`` and
#: ``launcher`` are the run's own; tools set them again).
DISTILL_ONLY_KEYS = ('teacher_ckpt', 'find_unused_parameters', 'work_dir',
                     'launcher')
#: Model parts of ours that compute exactly what an MMPretrain type does
#: at inference, and the arguments that type does not take. (Dropout acts
#: in training only; fine-tuning the export in MMPretrain runs without it.)
INFERENCE_EQUIVALENTS = {
    'DropoutLinearClsHead': ('LinearClsHead', ('dropout_rate', )),
}
#: Hooks that need a teacher and a distiller.
DISTILL_ONLY_HOOKS = ('AttentionMapVisualizationHook', )


def student_state_dict(
        state_dict: Dict[str, torch.Tensor],
        prefix: str = STUDENT_PREFIX) -> Tuple[OrderedDict, Dict[str, int]]:
    """The student's weights with ``prefix`` removed, and the number of
    dropped keys per top-level name (``teacher``, ``distiller``, ...)."""
    student, dropped = OrderedDict(), {}
    for key, value in state_dict.items():
        if key.startswith(prefix):
            student[key[len(prefix):]] = value
        else:
            group = key.split('.', 1)[0]
            dropped[group] = dropped.get(group, 0) + 1
    if not student:
        raise KeyError(f'no `{prefix}*` keys in the checkpoint; is it a '
                       'distillation checkpoint? Top-level names found: '
                       f'{sorted(dropped)}')
    return student, dropped


def _unscope(node, where: str = 'model'):
    """Copy of a model config with ``mmpretrain.X`` types as ``X``,
    ``_scope_='mmpretrain'`` removed and :data:`INFERENCE_EQUIVALENTS`
    replaced; other scopes and types of ours are an error, since MMPretrain
    alone could not build them."""
    if isinstance(node, (list, tuple)):
        return type(node)(
            _unscope(v, f'{where}[{i}]') for i, v in enumerate(node))
    if not isinstance(node, dict):
        return node
    name = node.get('type')
    if isinstance(name, str) and name.split('.')[-1] in INFERENCE_EQUIVALENTS:
        plain, unused = INFERENCE_EQUIVALENTS[name.split('.')[-1]]
        node = {k: v for k, v in node.items() if k not in unused}
        node['type'] = plain
    elif isinstance(name, str) and '.' not in name:
        _, cls = resolve_type(name)
        if cls is not None and is_foreign(cls):
            raise ValueError(f'{where}.type={name!r} ({cls.__module__}) is '
                             'not an MMPretrain type; the student cannot be '
                             'exported as a plain MMPretrain model')
    out = {}
    for key, value in node.items():
        if key == '_scope_':
            if value != 'mmpretrain':
                raise ValueError(f'{where} has _scope_={value!r}; an '
                                 'MMPretrain student cannot use it')
            continue
        if key == 'type' and isinstance(value, str) and '.' in value:
            scope, _, name = value.partition('.')
            if scope != 'mmpretrain':
                raise ValueError(f'{where}.type={value!r} is not an '
                                 'MMPretrain type; the student cannot be '
                                 'exported as a plain MMPretrain model')
            value = name
        out[key] = _unscope(value, f'{where}.{key}')
    return out


def is_plain_classifier(cfg: Config) -> bool:
    """A config whose model is an MMPretrain model, not an algorithm
    wrapping a student (``model.architecture``)."""
    model = cfg.get('model') or {}
    return 'architecture' not in model and not str(model.get(
        'type', '')).startswith('mmrazor.')


def student_config(cfg: Config,
                   out_dir: Optional[str] = None,
                   name: str = 'student',
                   with_data: bool = True,
                   dropped: Optional[list] = None) -> Config:
    """The MMPretrain config of a distillation config's student.

    Every section is made buildable by MMPretrain alone
    (:mod:`.plain_config`). Our datasets need the data for that: given
    ``out_dir``, their annotation files are written there as
    ``<name>_<split>.txt``; ``with_data=False`` drops the dataloaders
    instead, keeping the test pipeline. Without either, they keep their
    dctkd_mm types. Config entries dropped on the way (our hooks that
    guard training) are appended to ``dropped`` if given.
    """
    model = cfg.get('model') or {}
    # A plain classifier config (a teacher, a baseline) is its own student.
    architecture = model if is_plain_classifier(cfg) else model.get(
        'architecture')
    if not isinstance(architecture, dict) or 'cfg_path' in architecture:
        raise ValueError('export needs `model.architecture` as an inline '
                         'model dict (not a cfg_path reference)')
    student = copy.deepcopy(dict(architecture))
    # What normalised the inputs during distillation: the algorithm's
    # preprocessor, which the runner fills from the top-level one.
    preprocessor = (model.get('data_preprocessor')
                    or cfg.get('data_preprocessor'))
    if preprocessor is not None:
        student['data_preprocessor'] = copy.deepcopy(preprocessor)
    student = _unscope(student)

    out = {}
    for key, value in cfg.to_dict().items():
        # `_x` keys are locals of base files, already substituted.
        if key.startswith('_') or key in DISTILL_ONLY_KEYS or _is_distiller(
                value):
            continue
        out[key] = value
    out['model'] = student
    head_classes = (student.get('head') or {}).get('num_classes')
    if 'num_classes' in out and head_classes is not None:
        out['num_classes'] = head_classes  # keep the variable truthful
    out['default_scope'] = 'mmpretrain'
    out['load_from'] = None
    out['resume'] = False
    for loop in ('val_cfg', 'test_cfg'):
        loop_type = str((out.get(loop) or {}).get('type', ''))
        if loop_type.endswith('DistillValLoop'):
            out[loop] = dict()  # plain ValLoop / TestLoop
    if out.get('custom_hooks'):
        out['custom_hooks'] = [
            h for h in out['custom_hooks']
            if str(h.get('type', '')).split('.')[-1] not in DISTILL_ONLY_HOOKS
        ]
    if out_dir is not None or not with_data:
        plain_dataloaders(out, out_dir, name, with_data)
    removed = plain_types(out)
    if dropped is not None:
        dropped.extend(removed)
    return Config(out)


def _is_distiller(value) -> bool:
    return isinstance(value, dict) and str(value.get('type', '')).endswith(
        'Distiller')


def build_student(cfg: Config):
    """Build the student of an exported config with MMPretrain alone."""
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(copy.deepcopy(cfg.model))


def export_student(config: Union[str, Config],
                   checkpoint: str,
                   out_dir: str,
                   name: str = 'student',
                   with_data: bool = True,
                   force: bool = False) -> Dict[str, object]:
    """Write ``<out_dir>/<name>.pth`` and ``<out_dir>/<name>.py`` (plus
    ``<name>_<split>.txt`` annotation files for our datasets, see
    :func:`student_config`), which MMPretrain uses without dctkd_mm or
    MMRazor.

    The checkpoint holds ``meta`` (the source's, with ``cfg`` replaced by
    the student config) and the student's ``state_dict``; no optimizer or
    scheduler state. Before writing, the student is built from the new
    config and the weights are loaded into it strictly. Neither output
    may be the source checkpoint or config unless ``force``
    (:class:`~dctkd_mm.model_converters.OverwriteInputError`, raised
    before anything is read or written).

    Returns:
        dict: ``checkpoint`` and ``config`` paths, ``num_params`` (student
        keys kept), ``dropped`` (keys dropped per top-level name) and
        ``dropped_config`` (config entries MMPretrain could not build).
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    ckpt_path = osp.join(out_dir, f'{name}.pth')
    cfg_path = osp.join(out_dir, f'{name}.py')
    refuse_overwriting_inputs([ckpt_path, cfg_path],
                              [checkpoint, cfg.filename], force)
    # The one safe reader: tensors, plain containers and the MMEngine
    # types a runner checkpoint holds, nothing else.
    source = load_checkpoint_file(checkpoint, map_location='cpu')
    state = source.get('state_dict', source)
    weights, dropped = student_state_dict(
        state, '' if is_plain_classifier(cfg) else STUDENT_PREFIX)
    dropped_config: list = []
    s_cfg = student_config(cfg, out_dir, name, with_data, dropped_config)
    try:
        build_student(s_cfg).load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise RuntimeError(f'the student weights of {checkpoint} do not '
                           f'match the student built from {cfg.filename}: '
                           f'{exc}') from exc

    meta = dict(source.get('meta') or {})
    meta.update(cfg=s_cfg.pretty_text, exported_from=osp.abspath(checkpoint),
                dropped_keys=dropped)
    os.makedirs(out_dir, exist_ok=True)
    save_atomically({'meta': meta, 'state_dict': weights}, ckpt_path)
    s_cfg.dump(cfg_path)
    return dict(checkpoint=ckpt_path, config=cfg_path,
                num_params=len(weights), dropped=dropped,
                dropped_config=dropped_config)


__all__ = [
    'export_student', 'student_config', 'student_state_dict',
    'build_student', 'is_plain_classifier'
]
