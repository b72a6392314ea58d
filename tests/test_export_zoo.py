"""Every zoo config exports (tools/model_converters/export_student.py,
``student_config``) to a config that is MMPretrain's alone: no type of
dctkd_mm or MMRazor, images read by the loader the Inferencer strips, and
a student that builds and classifies."""
import functools
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, Registry

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import student_config
from utils import REPO_ROOT, RUNNABLE_CONFIGS, types_where

pytestmark = pytest.mark.usefixtures('restore_default_scope')


@functools.lru_cache(maxsize=None)
def _is_foreign_type(name):
    """Whether ``name`` resolves to a dctkd_mm or MMRazor class in
    MMPretrain's registries, or to nothing at all. The answer depends on
    the name alone (every module registering into them is imported above),
    so each name is looked up once: a miss in a registry costs an import
    attempt, and the zoo's configs repeat a few dozen names."""
    import mmpretrain.registry as registry
    registries = [r for r in vars(registry).values()
                  if isinstance(r, Registry)]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classes = [c for c in (r.get(name) for r in registries) if c]
    return not classes or any(
        c.__module__.split('.')[0] in ('dctkd_mm', 'mmrazor')
        for c in classes)


# --- every zoo config: the exported config is MMPretrain's alone ----------


@pytest.mark.parametrize('path', RUNNABLE_CONFIGS,
                         ids=[osp.relpath(p, REPO_ROOT)
                              for p in RUNNABLE_CONFIGS])
def test_zoo_config_exports_to_plain_mmpretrain(path):
    cfg = Config.fromfile(path)
    plain = student_config(cfg, with_data=False).to_dict()
    assert 'custom_imports' not in plain
    assert types_where(plain, _is_foreign_type) == []
    # Images are read by the one transform the Inferencer strips (CIFAR-10
    # configs read arrays, with no loading transform).
    pipeline = plain['test_dataloader']['dataset']['pipeline']
    loaders = [t['type'] for t in pipeline if 'Load' in t['type']]
    assert loaders in ([], ['LoadImageFromFile']) and (
        not loaders or pipeline[0]['type'] == 'LoadImageFromFile')
    # The student builds from it and classifies a tiny input.
    assert _logits_shape(plain['model']) == (
        1, plain['model']['head']['num_classes'])


_LOGITS_SHAPES = {}


def _logits_shape(model_cfg):
    """The shape of the logits of the model built from ``model_cfg`` on a
    tiny input. Many zoo configs export the very same student dict (one
    student and dataset under several methods): an equal dict builds the
    same model, so each distinct dict is built once."""
    key = repr(model_cfg)
    if key not in _LOGITS_SHAPES:
        from mmpretrain.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = MODELS.build(model_cfg).eval()
        with torch.no_grad():
            logits = model(torch.rand(1, 3, 32, 32), mode='tensor')
        _LOGITS_SHAPES[key] = tuple(logits.shape)
    return _LOGITS_SHAPES[key]
