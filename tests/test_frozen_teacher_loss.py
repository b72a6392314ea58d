"""FrozenTeacherDistill.loss is MMRazor's SingleTeacherDistill.loss with
the teacher's forward adjusted around it (issue 19): same losses, and the
adjustment does not outlive the call."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401

FLAGSHIP = osp.join(osp.dirname(osp.dirname(__file__)), 'configs',
                    'dct_kd_r50_r18_places365.py')


@pytest.fixture(scope='module')
def cfg():
    """The flagship for 5 classes, gating off (a random teacher is wrong
    on most samples, which would zero the distillation losses)."""
    model = Config.fromfile(FLAGSHIP).model
    model.architecture.head.num_classes = 5
    model.teacher.head.num_classes = 5
    model.teacher_ckpt = None
    for mapping in model.distiller.loss_forward_mappings.values():
        mapping.pop('t_logits')
        mapping.pop('gt_labels')
    return model


@pytest.fixture(scope='module')
def batch():
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 64, 64)
    return inputs, [DataSample().set_gt_label(i) for i in (1, 3)]


def build(cfg, algorithm, state_dict=None):
    cfg = copy.deepcopy(cfg)
    cfg.type = algorithm
    model = MODELS.build(cfg)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    model.train()
    return model


def test_frozen_loss_equals_mmrazors(cfg, batch):
    torch.manual_seed(0)
    frozen = build(cfg, 'FrozenTeacherDistill')
    plain = build(cfg, 'SingleTeacherDistill', frozen.state_dict())
    ours, theirs = frozen.loss(*batch), plain.loss(*batch)
    assert ours.keys() == theirs.keys()
    assert any(k.startswith('distill.') for k in ours)
    for key, value in ours.items():
        torch.testing.assert_close(value, theirs[key], rtol=0, atol=0,
                                   msg=key)


def test_teacher_fast_does_not_outlive_the_call(cfg, batch):
    """teacher_fast acts on the teacher's forward inside loss() only, and
    the hooks that apply it are gone afterwards, also after a failed
    call."""
    cfg = copy.deepcopy(cfg)
    cfg.teacher_fast = dict(inference_mode=True)
    model = build(cfg, 'FrozenTeacherDistill')
    hooks = (dict(model.teacher._forward_pre_hooks),
             dict(model.teacher._forward_hooks))
    student_hooks = dict(model.student._forward_hooks)
    recorded = []
    model.teacher.register_forward_hook(
        lambda _, __, out: recorded.append(torch.is_inference_mode_enabled()))
    # A first call that fails in the teacher fails with the teacher's
    # error, not as a recorder that recorded nothing.
    with pytest.raises(RuntimeError, match='channels'):
        model.loss(torch.randn(2, 5, 64, 64), batch[1])  # 5 channels
    model.loss(*batch)
    model.teacher(batch[0], mode='tensor')
    assert recorded == [True, False]
    model.teacher._forward_hooks.popitem()
    assert (dict(model.teacher._forward_pre_hooks),
            dict(model.teacher._forward_hooks)) == hooks
    assert dict(model.student._forward_hooks) == student_hooks
