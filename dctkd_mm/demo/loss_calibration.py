"""The one rule that carries the authors' loss weights to the demo's small
maps: each map loss's factor, measured.

The authors chose their weights at 224 px, where a ResNet's four stages
give 56, 28, 14 and 7 px maps; the demo's 40 px images give 10, 5, 3 and
2 px maps, on which a map loss has another size. **Rule**: every
distillation loss's authors' weight is multiplied by

    factor = (loss on the authors' maps) / (loss on the demo's maps),

each measured with the loss's own module (weight 1, no gating) between
the demo's teacher and the initial weights of every student seed, on the
same generated scenes drawn at 224 px and at the demo's size
(:data:`IMAGES_PER_CLASS` per class, a generator stream no split uses),
summed over the seeds before the division. So on maps of this content the
loss has the magnitude the authors' weight was chosen for. The factor is
a property of the loss and its stages, not of an arm: AT gets one per
stage (one loss each), DCT one for its sum over the four stages.

A loss whose size does not depend on the maps (exponent 0 in
:data:`~.loss_scaling.MAP_SIZE_EXPONENTS`: KD, hints on unit-normalised
features, PKT, VID, CRD, SemCKD) keeps factor 1 unmeasured. A loss that is
zero on the demo's maps (AT on a 1 px map: one position, nothing to
compare) cannot be measured and its weight does not matter; it gets the
exponent's extrapolation (:func:`~.loss_scaling.loss_factor`).

Why measured rather than extrapolated with the exponents: the exponents
assume every map position (AT) or spectral coefficient (DCT) adds alike.
On ResNet maps of these scenes they do not; the measurements and the
history of this choice are in docs/demo.md ("Loss weights").
"""
import json
import math
from typing import Dict, List, Sequence, Tuple

from .loss_scaling import (AUTHORS_MAP_SIZES, area_ratio, loss_exponent,
                           loss_factor)
from .scheduling import torch_threads

#: The authors' input size (their ResNet maps: AUTHORS_MAP_SIZES).
AUTHORS_IMAGE_SIZE = 224
#: Scenes per class measured at each size (64 at the default 16 classes).
IMAGES_PER_CLASS = 4
#: The synthetic generator's stream for these scenes (1: training images,
#: 2: validation images).
CALIBRATION_STREAM = 3
#: The map arguments a measured loss is called with.
MAP_ARGUMENTS = ('s_feature', 't_feature')


def significant(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits: the last bits of a float
    sum (thread count, CPU) do not reach the loss weights."""
    return float(f'{value:.{digits}g}')


def _map_sources(distiller: dict, loss_name: str) -> Dict[str, object]:
    """``{s_feature: source(s), t_feature: source(s)}`` of a loss: the
    module names its recorders read (a list where the recorder is one)."""
    mapping = distiller.get('loss_forward_mappings', {}).get(loss_name)
    if not mapping or any(arg not in mapping for arg in MAP_ARGUMENTS):
        raise ValueError(
            f'loss calibration: distill loss {loss_name!r} has no '
            f'{" and ".join(MAP_ARGUMENTS)} mapping; a loss whose size '
            'depends on the maps must compare a student and a teacher map')
    sources = {}
    for arg in MAP_ARGUMENTS:
        entry = mapping[arg]
        if entry.get('connector'):
            raise ValueError(
                f'loss calibration: {loss_name}.{arg} goes through connector '
                f'{entry["connector"]!r}; only losses on the networks\' own '
                'outputs are measured')
        side = ('student_recorders'
                if entry['from_student'] else 'teacher_recorders')
        names = entry['recorder']
        listed = isinstance(names, (list, tuple))
        found = []
        for name in (names if listed else [names]):
            recorder = distiller.get(side, {}).get(name, {})
            if str(recorder.get('type')).split('.')[-1] != 'ModuleOutputs':
                raise ValueError(
                    f'loss calibration: {loss_name}.{arg} reads {side}.'
                    f'{name} ({recorder.get("type")}); expected a '
                    'ModuleOutputs recorder')
            found.append(recorder['source'])
        sources[arg] = found if listed else found[0]
    return sources


def _flat(values) -> List[str]:
    flat = []
    for value in values:
        flat += list(value) if isinstance(value, (list, tuple)) else [value]
    return flat


class LossCalibration:
    """The measured factors of the demo's distillation losses, for one
    teacher checkpoint and the students' initial weights ``init_paths``.
    Networks and feature maps are built on first use, once."""

    def __init__(self, settings: dict, teacher_config: str,
                 student_config: str, teacher_ckpt: str,
                 init_paths: Sequence[str]):
        self.settings = settings
        self.configs = (teacher_config, student_config)
        self.checkpoints = (teacher_ckpt, list(init_paths))
        self._models = None
        self._features: Dict[Tuple[int, str, int], object] = {}
        self._factors: Dict[str, dict] = {}

    def arm_factors(self, cfg) -> Dict[str, dict]:
        """``{loss name: {factor, how}}`` for every distillation loss of the
        arm config ``cfg`` (an MMEngine Config); ``how`` is ``size-free``,
        ``measured`` or ``exponent``."""
        distiller = cfg.model.get('distiller', {})
        result = {}
        for name, loss_cfg in distiller.get('distill_losses', {}).items():
            if loss_exponent(loss_cfg) == 0:
                result[name] = dict(factor=1.0, how='size-free')
                continue
            sources = _map_sources(distiller, name)
            spec = {k: v for k, v in loss_cfg.items() if k != 'loss_weight'}
            key = json.dumps([spec, sources], sort_keys=True, default=str)
            if key not in self._factors:
                self._factors[key] = self._measure(spec, sources)
            result[name] = dict(self._factors[key])
        return result

    def _measure(self, spec: dict, sources: Dict[str, object]) -> dict:
        import torch
        from mmrazor.registry import MODELS
        loss = MODELS.build(dict(spec, loss_weight=1.0))
        sizes = (self.settings['image_size'], AUTHORS_IMAGE_SIZE)
        per_seed = ([], [])  # (demo's, authors') loss per student seed
        with torch_threads(1), torch.no_grad():
            for size, values in zip(sizes, per_seed):
                self._record(_flat(sources.values()), size)
                teacher_maps = self._maps(0, sources['t_feature'], size)
                for k in range(1, len(self.checkpoints[1]) + 1):
                    values.append(float(loss(
                        s_feature=self._maps(k, sources['s_feature'], size),
                        t_feature=teacher_maps)))
        demo, authors = (sum(values) for values in per_seed)
        if demo > 0 and math.isfinite(authors / demo):
            return dict(factor=significant(authors / demo), how='measured',
                        per_seed=[significant(a / d) if d > 0 else None
                                  for d, a in zip(*per_seed)])
        from .training import stage_map_sizes
        map_sizes = stage_map_sizes(self.settings, self.configs[1])
        return dict(factor=significant(loss_factor(
            spec, area_ratio(map_sizes, AUTHORS_MAP_SIZES))), how='exponent')

    def _maps(self, model_index: int, source, size: int):
        if isinstance(source, (list, tuple)):
            return [self._maps(model_index, s, size) for s in source]
        return self._features[model_index, source, size]

    def _record(self, sources: List[str], size: int) -> None:
        """Forward every network once on the scenes at ``size``, keeping
        the outputs of those ``sources`` not recorded yet."""
        missing = [s for s in dict.fromkeys(sources)
                   if (0, s, size) not in self._features]
        if not missing:
            return
        models = self._networks()
        batch = self._scenes(models[0], size)
        for index, model in enumerate(models):
            handles = [model.get_submodule(source).register_forward_hook(
                self._keeper((index, source, size))) for source in missing]
            try:
                model.backbone(batch)
            finally:
                for handle in handles:
                    handle.remove()

    def _keeper(self, key: Tuple[int, str, int]):
        def keep(_module, _inputs, output) -> None:
            self._features[key] = output
        return keep

    def _scenes(self, model, size: int):
        import torch

        from dctkd_mm.datasets.synthetic_scenes import scene_images
        images = scene_images(self.settings['num_classes'], IMAGES_PER_CLASS,
                              size, CALIBRATION_STREAM)
        # The data preprocessor expects what the pipeline loads: BGR.
        inputs = [torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)
                  for img in images]
        return model.data_preprocessor(dict(inputs=inputs))['inputs']

    def _networks(self) -> List[object]:
        """[teacher, student of seed 0, seed 1, ...], in eval mode."""
        if self._models is None:
            from .training import build_classifier, teacher_options
            from .training import run_options
            teacher = build_classifier(
                self.configs[0], teacher_options(self.settings, ''),
                self.checkpoints[0])
            students = [build_classifier(
                self.configs[1], run_options(self.settings, '', 0, 1, False),
                path) for path in self.checkpoints[1]]
            self._models = [teacher] + students
        return self._models
