"""Check a ``ConfigurableDistiller`` config before MMRazor uses it.

MMRazor 1.0.0 checks ``loss_forward_mappings`` with ``assert`` statements
(gone under ``python -O``), skips the check entirely for loss arguments
that have a default (``t_logits``, ``gt_labels`` of
``DCTAttentionLoss``: a misspelt recorder there surfaces as a bare
``KeyError`` at the first training step), never checks that required
arguments are mapped, and reports a recorder ``source`` missing from the
model as ``AssertionError: "backbone.layer9" is not in the model.``
without saying which recorder, which model or what exists.

Here every error is a :class:`DistillConfigError` (a ``ValueError``)
naming the loss, the argument, the recorder and the valid choices.
"""
import difflib
import inspect
from contextlib import contextmanager
from typing import Dict, Iterable, List, Optional

import torch.nn as nn
from mmrazor.registry import MODELS

#: Recorder types whose ``source`` is a module path / parameter name of the
#: model they record (as written in configs, without ``Recorder``).
_MODULE_RECORDERS = ('ModuleOutputs', 'ModuleInputs')
_PARAMETER_RECORDERS = ('Parameter', )


class DistillConfigError(ValueError):
    """A distiller config refers to something that does not exist."""


def _names(items: Iterable[str]) -> str:
    items = sorted(items)
    return ', '.join(f"'{i}'" for i in items) if items else '(none)'


def _loss_class(loss_cfg) -> Optional[type]:
    loss_type = loss_cfg.get('type') if isinstance(loss_cfg, dict) else None
    if isinstance(loss_type, type):
        return loss_type
    if not isinstance(loss_type, str):
        return None
    try:
        return MODELS.get(loss_type)
    except Exception:  # unknown scope: MMRazor's build reports it
        return None


def _forward_params(loss_cls: type):
    """``(all argument names, required ones)`` of ``loss_cls.forward``, or
    None when it takes ``**kwargs`` (anything goes)."""
    params = list(inspect.signature(loss_cls.forward).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    names = [
        p.name for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    required = [
        p.name for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.default is p.empty
    ]
    return names, required


def check_distiller_config(distiller: Dict) -> None:
    """Check that every name in ``loss_forward_mappings`` exists.

    Raises:
        DistillConfigError: naming the loss, argument and recorder or
            connector at fault, and listing the valid names.
    """
    mappings = distiller.get('loss_forward_mappings') or {}
    losses = distiller.get('distill_losses') or {}
    recorders = dict(
        student=dict(distiller.get('student_recorders') or {}),
        teacher=dict(distiller.get('teacher_recorders') or {}))
    connectors = distiller.get('connectors') or {}
    for loss_name, mapping in mappings.items():
        if loss_name not in losses:
            raise DistillConfigError(
                f"loss_forward_mappings names loss '{loss_name}', which is "
                f'not in distill_losses; valid losses: {_names(losses)}.')
        if not isinstance(mapping, dict):
            raise DistillConfigError(
                f"loss_forward_mappings['{loss_name}'] must map argument "
                f'names to dicts, got {type(mapping).__name__}.')
        loss_cls = _loss_class(losses[loss_name])
        params = _forward_params(loss_cls) if loss_cls else None
        if params is not None:
            names, required = params
            where = f"{loss_cls.__name__}.forward (loss '{loss_name}')"
            for arg in mapping:
                if arg not in names:
                    raise DistillConfigError(
                        f"loss_forward_mappings['{loss_name}'] maps "
                        f"argument '{arg}', which {where} does not take; "
                        f'its arguments: {_names(names)}.')
            missing = [a for a in required if a not in mapping]
            if missing:
                raise DistillConfigError(
                    f"loss_forward_mappings['{loss_name}'] does not map the "
                    f'required argument(s) {_names(missing)} of {where}.')
        for arg, record in mapping.items():
            _check_record(loss_name, arg, record, recorders, connectors)


def _check_record(loss_name: str, arg: str, record, recorders: Dict,
                  connectors: Dict) -> None:
    at = f"loss_forward_mappings['{loss_name}']['{arg}']"
    if not isinstance(record, dict) or 'recorder' not in record \
            or 'from_student' not in record:
        raise DistillConfigError(
            f'{at} must be a dict with `recorder` and `from_student`, '
            f'got {record!r}.')
    from_student = record['from_student']
    if not isinstance(from_student, bool):
        raise DistillConfigError(
            f'{at}: from_student must be True or False, got '
            f'{from_student!r}.')
    names = record['recorder']
    # A list passes several records to one argument (RecorderListDistiller).
    for name in names if isinstance(names, (list, tuple)) else [names]:
        _check_recorder_name(at, name, from_student, recorders)
    connector = record.get('connector')
    for name in connector if isinstance(connector, (list, tuple)) else [
            connector]:
        if name is not None and name not in connectors:
            raise DistillConfigError(
                f"{at} uses connector '{name}', which is not in "
                f'connectors; valid connectors: {_names(connectors)}.')


def _check_recorder_name(at: str, name, from_student: bool,
                         recorders: Dict) -> None:
    side, other = ('student', 'teacher') if from_student else ('teacher',
                                                              'student')
    if name not in recorders[side]:
        hint = ''
        if name in recorders[other]:
            hint = (f" '{name}' is a {other} recorder: set "
                    f'from_student={not from_student}.')
        raise DistillConfigError(
            f"{at} reads recorder '{name}', which is not in "
            f'{side}_recorders; valid {side} recorders: '
            f'{_names(recorders[side])}.{hint}')


def _as_names(recorder) -> list:
    return list(recorder) if isinstance(recorder, (list, tuple)) else [
        recorder]


def _recorder_kind(recorder_cfg) -> str:
    kind = str(recorder_cfg.get('type', '')) if isinstance(
        recorder_cfg, dict) else ''
    kind = kind.rsplit('.', 1)[-1]
    return kind[:-len('Recorder')] if kind.endswith('Recorder') else kind


def _children_hint(source: str, names: List[str]) -> str:
    """Valid names next to ``source``: the children of its deepest
    existing ancestor."""
    parts = source.split('.')
    existing = set(names)
    for depth in range(len(parts) - 1, -1, -1):
        parent = '.'.join(parts[:depth])
        if depth == 0 or parent in existing:
            prefix = f'{parent}.' if parent else ''
            children = [
                n for n in names
                if n.startswith(prefix) and n and '.' not in n[len(prefix):]
            ]
            return (f" Under '{parent or '<model>'}' there are: "
                    f'{_names(children)}.')
    return ''


def check_recorder_sources(distiller: Dict, student: nn.Module,
                           teacher: nn.Module) -> None:
    """Check that every module / parameter recorder's ``source`` exists in
    the model it records.

    Raises:
        DistillConfigError: naming the recorder, its source, the losses
            using it, and close or neighbouring valid names.
    """
    mappings = distiller.get('loss_forward_mappings') or {}
    for side, model in (('student', student), ('teacher', teacher)):
        if model is None:
            continue
        for name, cfg in (distiller.get(f'{side}_recorders') or {}).items():
            kind = _recorder_kind(cfg)
            if kind in _MODULE_RECORDERS:
                valid = [n for n, _ in model.named_modules()]
                what = 'module'
            elif kind in _PARAMETER_RECORDERS:
                valid = [n for n, _ in model.named_parameters()]
                what = 'parameter'
            else:
                continue
            source = cfg.get('source')
            if source in valid:
                continue
            users = [
                f'{loss}.{arg}' for loss, mapping in mappings.items()
                for arg, rec in (mapping or {}).items()
                if isinstance(rec, dict)
                and name in _as_names(rec.get('recorder'))
                and rec.get('from_student') == (side == 'student')
            ]
            close = difflib.get_close_matches(str(source), valid, n=5)
            raise DistillConfigError(
                f"{side}_recorders['{name}'] ({kind}) records "
                f"'{source}', which is not a {what} of the {side} "
                f'({type(model).__name__}); used by '
                f'{_names(users)}. Closest names: {_names(close)}.' +
                (_children_hint(str(source), [n for n in valid if n])
                 if what == 'module' else ''))


@contextmanager
def checked_distiller(algorithm: nn.Module, distiller: Dict):
    """Wrap an algorithm's ``super().__init__`` that builds ``distiller``.

    Names are checked before MMRazor's asserts run; recorder sources once
    the student and teacher exist, whether MMRazor's own check raised (its
    ``AssertionError`` is replaced by a clear error) or was compiled away
    by ``python -O``.
    """
    check_distiller_config(distiller)
    try:
        yield
    except AssertionError as exc:
        try:
            _check_built(algorithm, distiller)
        except DistillConfigError as err:
            raise err from exc
        raise
    _check_built(algorithm, distiller)


def _check_built(algorithm: nn.Module, distiller: Dict) -> None:
    # ``vars``: the algorithm may have failed before nn.Module.__init__.
    modules = vars(algorithm).get('_modules') or {}
    check_recorder_sources(distiller, modules.get('architecture'),
                           modules.get('teacher'))


def check_recorders_recorded(distiller) -> None:
    """After the first training forward: every recorder must have recorded.

    A recorder on a module that exists but does not run inside the
    model's forward (``data_preprocessor`` runs before it; a head's
    ``predict`` path is not taken in ``mode='loss'``) records nothing, and
    MMRazor then fails with ``record_idx is illegal``, naming no recorder.
    """
    for side in ('teacher', 'student'):
        manager = getattr(distiller, f'{side}_recorders', None)
        for name, recorder in (getattr(manager, 'recorders', None)
                               or {}).items():
            if recorder.data_buffer:
                continue
            source = getattr(recorder, 'source', None)
            raise DistillConfigError(
                f"{side}_recorders '{name}' ({type(recorder).__name__}, "
                f"source '{source}') recorded nothing in the first "
                f"training forward: '{source}' exists in the {side} but "
                'does not run inside its forward(mode="loss") (a '
                'data_preprocessor runs before the forward; a method used '
                'only in predict() is not called). Record a module or '
                'method the forward pass runs instead.')
