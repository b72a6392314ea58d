"""Record the stage features a distiller compares, with real forward passes.

Shared by ``tools/visualization/visualize_attention.py`` and
:class:`AttentionMapVisualizationHook`. Features are taken with forward
hooks that are removed after each pass, so a model being trained is left
exactly as it was (MMRazor's recorders keep their hooks for good).
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, NamedTuple, Sequence, Tuple

import torch
import torch.nn as nn
from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder

#: Scales drawn when no distiller says which: the four ResNet stages.
DEFAULT_STAGES = tuple(f'backbone.layer{i}' for i in (1, 2, 3, 4))


class StagePair(NamedTuple):
    """One scale: a display name and the student / teacher module paths."""
    name: str
    student_source: str
    teacher_source: str


def default_stage_pairs(sources: Sequence[str] = DEFAULT_STAGES
                        ) -> List[StagePair]:
    """Pairs that record the same module path in both models."""
    return [StagePair(src.rsplit('.', 1)[-1], src, src) for src in sources]


def stage_pairs_from_distiller(distiller) -> List[StagePair]:
    """The (student, teacher) feature pairs a ``ConfigurableDistiller``
    feeds its losses, in loss order.

    A pair is a ``loss_forward_mappings`` entry whose ``s_feature`` and
    ``t_feature`` come from module-output recorders (or from equally long
    lists of them, one pair per element) (the argument names of
    ``DCTAttentionLoss`` and of MMRazor's feature losses). Without such
    entries, recorders of module outputs present under the same name on
    both sides are used.
    """
    s_recs = distiller.student_recorders.recorders
    t_recs = distiller.teacher_recorders.recorders
    pairs: List[StagePair] = []
    for mapping in getattr(distiller, 'loss_forward_mappings', {}).values():
        s_map, t_map = mapping.get('s_feature'), mapping.get('t_feature')
        if not (isinstance(s_map, dict) and isinstance(t_map, dict)):
            continue
        # A recorder list (``RecorderListDistiller``) maps one loss to
        # several stages, paired in order.
        s_names, t_names = (_as_list(s_map.get('recorder')),
                            _as_list(t_map.get('recorder')))
        if len(s_names) != len(t_names):
            continue
        for s_name, t_name in zip(s_names, t_names):
            s_rec, t_rec = s_recs.get(s_name), t_recs.get(t_name)
            if not (isinstance(s_rec, ModuleOutputsRecorder)
                    and isinstance(t_rec, ModuleOutputsRecorder)):
                continue
            name = s_name if s_name == t_name else f'{s_name}/{t_name}'
            pair = StagePair(name, s_rec.source, t_rec.source)
            if pair not in pairs:
                pairs.append(pair)
    if not pairs:
        pairs = [
            StagePair(name, rec.source, t_recs[name].source)
            for name, rec in s_recs.items()
            if isinstance(rec, ModuleOutputsRecorder)
            and isinstance(t_recs.get(name), ModuleOutputsRecorder)
        ]
    if not pairs:
        raise ValueError('the distiller records no module outputs on both '
                         'student and teacher; pass the stages explicitly')
    return pairs


def _as_list(names) -> List[str]:
    return list(names) if isinstance(names, (list, tuple)) else [names]


def loss_transform(distiller, default: str = 'dft_real') -> str:
    """The ``transform`` of the distiller's ``DCTAttentionLoss`` (so the
    figures show the spectra the loss compares), or ``default`` when it
    has none; two DCT losses with different transforms are refused."""
    transforms = {
        loss.transform
        for loss in getattr(distiller, 'distill_losses', {}).values()
        if type(loss).__name__ == 'DCTAttentionLoss'
    }
    if len(transforms) > 1:
        raise ValueError('the distiller has DCTAttentionLosses with '
                         f'different transforms {sorted(transforms)}; '
                         'draw each with its own transform')
    return transforms.pop() if transforms else default


@contextmanager
def capture_outputs(model: nn.Module,
                    sources: Sequence[str]) -> Iterator[Dict[str, list]]:
    """Collect the outputs of the named submodules while the block runs."""
    modules = dict(model.named_modules())
    missing = [s for s in sources if s not in modules]
    if missing:
        raise KeyError(f'{type(model).__name__} has no submodule(s) '
                       f'{missing}')
    records: Dict[str, list] = {s: [] for s in sources}
    handles = [
        modules[s].register_forward_hook(
            lambda _m, _i, out, store=records[s]: store.append(out))
        for s in dict.fromkeys(sources)
    ]
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


def _as_feature(outputs: list, source: str) -> torch.Tensor:
    if not outputs:
        raise RuntimeError(f'`{source}` did not run in the forward pass')
    # Like MMRazor's record_idx=0: the first call of a module that runs
    # several times; the first tensor of a module returning a tuple.
    out = outputs[0]
    if isinstance(out, (list, tuple)):
        out = out[0]
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        raise TypeError(f'`{source}` must output a (B, C, H, W) tensor to '
                        'draw attention maps, got '
                        f'{getattr(out, "shape", type(out).__name__)}')
    return out


@torch.no_grad()
def forward_stages(model: nn.Module, data_preprocessor: nn.Module,
                   batch: dict, sources: Sequence[str]
                   ) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """Preprocess a collated ``batch`` and run ``model`` in ``'tensor'``
    mode; return the features of ``sources`` and the model's output
    (the logits, for an MMPretrain ``ImageClassifier``)."""
    data = data_preprocessor(batch, False)
    with capture_outputs(model, sources) as records:
        logits = model(data['inputs'], mode='tensor')
    return [_as_feature(records[s], s) for s in sources], logits


@contextmanager
def eval_mode(*models: nn.Module) -> Iterator[None]:
    """Put ``models`` in eval mode, then restore every submodule's own
    ``training`` flag.

    Flags are restored one by one rather than with ``train(mode)``: during
    distillation the teacher is in train mode with its BN layers in eval
    (``teacher_norm_eval``), and ``teacher.train(True)`` would switch those
    BN layers back to updating their running statistics.
    """
    modes = [(m, m.training) for model in models for m in model.modules()]
    for model in models:
        model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode
