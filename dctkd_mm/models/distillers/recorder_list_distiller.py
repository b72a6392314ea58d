"""A ``ConfigurableDistiller`` that hands a list of records to one loss
argument, so one loss call covers all stages."""
from inspect import signature
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules import RecorderManager
from mmrazor.registry import MODELS


def _names(value: Union[str, Sequence[str], None]) -> List[Optional[str]]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@MODELS.register_module()
class RecorderListDistiller(ConfigurableDistiller):
    """``ConfigurableDistiller`` whose mappings may read several recorders.

    In ``loss_forward_mappings`` a ``recorder`` may be a list of recorder
    names: the loss argument then receives the list of their records, in
    that order (``connector`` may be a list of the same length, one per
    record). One loss call then covers all stages: for
    ``DCTAttentionLoss`` one gating, one finite check and the stages'
    maps computed as one stack. A single
    name behaves exactly as in ``ConfigurableDistiller``::

        loss_forward_mappings=dict(loss_dct=dict(
            s_feature=dict(recorder=['layer1', 'layer2'], from_student=True),
            t_feature=dict(recorder=['layer1', 'layer2'],
                           from_student=False)))

    Per-stage values are logged for losses whose ``forward`` takes
    ``return_stages`` (e.g. ``DCTAttentionLoss``): loss ``loss_dct`` with
    stages ``layer1, layer2`` adds the detached ``dct_layer1`` and
    ``dct_layer2``. Their names must not contain ``'loss'``, because
    MMEngine's ``parse_losses`` sums every key that does into the total:
    a name that would is refused when the distiller is built.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stage_log_names = {
            loss_name: self._stage_log_names(loss_name, mapping)
            for loss_name, mapping in self.loss_forward_mappings.items()
            if self._logs_stages(loss_name, mapping)
        }

    def _logs_stages(self, loss_name: str, mapping: Dict) -> bool:
        forward = self.distill_losses[loss_name].forward
        return ('return_stages' in signature(forward).parameters
                and any(isinstance(rec.get('recorder'), (list, tuple))
                        for rec in mapping.values()))

    @staticmethod
    def _stage_log_names(loss_name: str, mapping: Dict) -> List[str]:
        stages = next(rec['recorder'] for rec in mapping.values()
                      if isinstance(rec.get('recorder'), (list, tuple)))
        base = loss_name[len('loss_'):] if loss_name.startswith(
            'loss_') else loss_name
        names = [f'{base}_{stage}' for stage in stages]
        for name in names:
            if 'loss' in name:
                raise ValueError(
                    f"RecorderListDistiller: the per-stage log name "
                    f"'{name}' of loss '{loss_name}' contains 'loss', so "
                    'MMEngine would add it to the total a second time; '
                    "rename the loss or the recorder so only the total's "
                    "name contains 'loss'.")
        return names

    def get_record(self,
                   recorder: Union[str, Sequence[str]],
                   from_student: bool,
                   record_idx: int = 0,
                   data_idx: Optional[int] = None,
                   connector: Union[str, Sequence[str], None] = None,
                   connector_idx: Optional[int] = None):
        """A record as in ``ConfigurableDistiller``, or with a list of
        recorders the list of their records."""
        if not isinstance(recorder, (list, tuple)):
            return super().get_record(recorder, from_student, record_idx,
                                      data_idx, connector, connector_idx)
        connectors = _names(connector)
        if len(connectors) == 1:
            connectors = connectors * len(recorder)
        return [
            super(RecorderListDistiller, self).get_record(
                name, from_student, record_idx, data_idx, conn,
                connector_idx) for name, conn in zip(recorder, connectors)
        ]

    def compute_distill_losses(self) -> Dict[str, torch.Tensor]:
        """Every loss once; per-stage values beside the losses that give
        them (detached, and named without 'loss': logged, not summed)."""
        losses = dict()
        for loss_name, mapping in self.loss_forward_mappings.items():
            kwargs = {key: self.get_record(**record)
                      for key, record in mapping.items()}
            loss_module = self.distill_losses[loss_name]
            stage_names = self.stage_log_names.get(loss_name)
            if stage_names is None:
                losses[loss_name] = loss_module(**kwargs)
                continue
            losses[loss_name], stages = loss_module(**kwargs,
                                                    return_stages=True)
            losses.update(zip(stage_names, stages.unbind(0)))
        return losses

    def _check_loss_forward_mappings(self, losses, loss_forward_mappings,
                                     student_recorders: RecorderManager,
                                     teacher_recorders: RecorderManager
                                     ) -> None:
        """MMRazor's checks, applied to each element of a recorder list
        (as mapping ``'<loss>[<i>]'``), after checking list lengths."""
        single, losses_view = {}, dict(losses)
        for loss_name, mapping in loss_forward_mappings.items():
            length = self._list_length(loss_name, mapping)
            if length is None:
                single[loss_name] = mapping
                continue
            for i in range(length):
                single[f'{loss_name}[{i}]'] = {
                    key: self._element(record, i)
                    for key, record in mapping.items()
                }
                if loss_name in losses:
                    losses_view[f'{loss_name}[{i}]'] = losses[loss_name]
        super()._check_loss_forward_mappings(losses_view, single,
                                             student_recorders,
                                             teacher_recorders)

    @staticmethod
    def _list_length(loss_name: str, mapping) -> Optional[int]:
        """The common length of the mapping's recorder lists (None: no
        list), with connector lists checked against it."""
        if not isinstance(mapping, dict):
            return None
        lengths = set()
        for key, record in mapping.items():
            if not isinstance(record, dict) or not isinstance(
                    record.get('recorder'), (list, tuple)):
                continue
            names, conns = record['recorder'], _names(record.get('connector'))
            if not names:
                raise ValueError(f"loss_forward_mappings['{loss_name}']"
                                 f"['{key}']: the recorder list is empty.")
            if len(conns) not in (1, len(names)):
                raise ValueError(
                    f"loss_forward_mappings['{loss_name}']['{key}']: "
                    f'{len(conns)} connectors for {len(names)} recorders; '
                    'give one, or one per recorder.')
            lengths.add(len(names))
        if len(lengths) > 1:
            raise ValueError(
                f"loss_forward_mappings['{loss_name}']: the recorder lists "
                f'have different lengths {sorted(lengths)}; each list holds '
                'one recorder per stage.')
        return lengths.pop() if lengths else None

    @staticmethod
    def _element(record, i: int):
        """Element ``i`` of a list mapping entry, as a single mapping."""
        if not isinstance(record, dict) or not isinstance(
                record.get('recorder'), (list, tuple)):
            return record
        element = dict(record, recorder=record['recorder'][i])
        conns = _names(record.get('connector'))
        if record.get('connector') is not None:
            element['connector'] = conns[i] if len(conns) > 1 else conns[0]
        return element
