"""Issue 10 case 6 (mismatches): a dataset whose class count differs from
the heads', and a recorder that records nothing, are named before or at
the first step instead of failing deep inside MMPretrain / MMRazor.
"""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import utils
from dctkd_mm.engine.hooks.class_count_check_hook import \
    ClassCountMismatchError
from dctkd_mm.models.algorithms.distill_config_checks import \
    DistillConfigError


@pytest.mark.parametrize('data_classes', [5, 3])
def test_dataset_and_head_class_counts_must_agree(tmp_path, data_classes):
    """5 classes under heads of 4 used to fail at the first step with
    ``IndexError: Target 4 is out of bounds``; 3 trained silently. Both
    are refused before the first batch, naming both numbers."""
    root = str(tmp_path / 'data')
    utils.make_places365_tree(root, num_classes=data_classes, per_class=1,
                              val_per_class=1)
    config = utils.write_tiny_distill_config(
        str(tmp_path / 'cfg.py'), root, num_classes=4)
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path / 'work')
    # The runner formats the config's text with yapf (seconds of CPU) for
    # its log and dumps; nothing here reads them.
    object.__setattr__(cfg, '_format_python_code', False)
    seen = []

    def no_step(*args, **kwargs):
        seen.append('a training step ran')

    with utils.runner_state_restored():
        runner = Runner.from_cfg(cfg)
        runner.model.train_step = no_step
        with pytest.raises(ClassCountMismatchError) as info:
            runner.train()
    message = str(info.value)
    assert f'has {data_classes} classes' in message, message
    assert "'architecture.head' has num_classes=4" in message
    assert 'Places365' in message and root in message
    assert not seen


def test_recorder_that_never_runs_is_named(tmp_path):
    """A teacher recorder on ``data_preprocessor`` (a module of the teacher
    that the algorithm's own preprocessor replaces, so it never runs) used
    to fail in MMRazor with ``record_idx is illegal``."""
    cfg = Config.fromfile(utils.FLAGSHIP_CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.teacher_ckpt = None
    model_cfg.distiller.teacher_recorders.layer2 = dict(
        type='ModuleOutputs', source='data_preprocessor')
    model = MODELS.build(model_cfg)
    inputs = torch.randn(2, 3, 64, 64)
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    with pytest.raises(DistillConfigError) as info:
        model.loss(inputs, samples)
    message = str(info.value)
    assert "teacher_recorders 'layer2'" in message, message
    assert "source 'data_preprocessor'" in message
    assert 'recorded nothing in the first training forward' in message
