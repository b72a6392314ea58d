"""FrozenTeacherDistill's ``teacher_fast`` options give the plain path's
losses (bfloat16 within its tolerance), keep the teacher frozen and the
student trained, and hand recorded features on in a usable form.

Speed is measured by tools/analysis_tools/benchmark.py, not here.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401
from dctkd_mm.models.algorithms import TeacherFastConfig
from dctkd_mm.models.algorithms.fast_teacher import as_normal_tensor

FLAGSHIP = osp.join(osp.dirname(osp.dirname(__file__)), 'configs',
                    'dct_kd_r50_r18_places365.py')
TEACHER_CHANNELS = {1: 256, 2: 512, 3: 1024, 4: 2048}


def model_cfg(adapter=False):
    """The flagship R50 -> R18 model for 5 classes, gating off (a random
    teacher is wrong on most samples, which would zero the losses), and
    optionally a trainable ResidualFeatureAdapter on each teacher stage."""
    cfg = Config.fromfile(FLAGSHIP).model
    cfg.architecture.head.num_classes = 5
    cfg.teacher.head.num_classes = 5
    cfg.teacher_ckpt = None
    for mapping in cfg.distiller.loss_forward_mappings.values():
        mapping.pop('t_logits')
        mapping.pop('gt_labels')
    if adapter:
        cfg.distiller.connectors = {
            f't_adapter{i}': dict(type='ResidualFeatureAdapter',
                                  in_channels=c)
            for i, c in TEACHER_CHANNELS.items()}
        cfg.distiller.loss_forward_mappings.loss_dct.t_feature.connector = [
            f't_adapter{i}' for i in TEACHER_CHANNELS]
    return cfg


def build(cfg, state_dict=None, **teacher_fast):
    cfg = copy.deepcopy(cfg)
    if teacher_fast:
        cfg.teacher_fast = teacher_fast
    model = MODELS.build(cfg)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    model.train()
    return model


@pytest.fixture(scope='module')
def batch():
    torch.manual_seed(0)
    # 64 px keeps every ResNet stage above 1x1 (stage 4 is 2x2).
    inputs = torch.randn(2, 3, 64, 64)
    samples = [DataSample().set_gt_label(i) for i in (1, 3)]
    return inputs, samples


@pytest.fixture(scope='module')
def plain(batch):
    torch.manual_seed(0)
    model = build(model_cfg())
    return model, model.loss(*batch)


def step_and_check_grads(model, losses):
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    grads = [p.grad for p in model.student.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


EXACT_OPTIONS = {
    'inference_mode': dict(inference_mode=True),
    'channels_last': dict(channels_last=True),
    'both': dict(inference_mode=True, channels_last=True),
    # Dynamo traces the backbone with the recorder hooks in it; the eager
    # backend keeps this fast and compiler-free.
    'compile': dict(compile=dict(backend='eager')),
}


@pytest.mark.parametrize('options', EXACT_OPTIONS.values(),
                         ids=EXACT_OPTIONS.keys())
def test_exact_options_give_the_plain_losses(plain, batch, options):
    reference_model, reference = plain
    model = build(model_cfg(), reference_model.state_dict(), **options)
    losses = model.loss(*batch)
    assert losses.keys() == reference.keys()
    for key, value in losses.items():
        torch.testing.assert_close(value, reference[key], rtol=1e-5,
                                   atol=1e-6, msg=key)
    step_and_check_grads(model, losses)


@pytest.mark.parametrize('feature_dtype', ['float32', None])
def test_bfloat16_teacher_is_within_tolerance(plain, batch, feature_dtype):
    reference_model, reference = plain
    model = build(model_cfg(), reference_model.state_dict(),
                  inference_mode=True, autocast_dtype='bfloat16',
                  feature_dtype=feature_dtype)
    losses = model.loss(*batch)
    # The student runs in float32 either way.
    torch.testing.assert_close(losses['student.loss'],
                               reference['student.loss'])
    for key in ['distill.loss_dct'] + [f'distill.dct_layer{i}'
                                       for i in range(1, 5)]:
        assert losses[key].dtype == torch.float32
        # bfloat16 keeps 8 bits of mantissa: maps move by ~1e-2.
        torch.testing.assert_close(losses[key], reference[key], rtol=3e-2,
                                   atol=1e-2, msg=key)
    recorded = model.distiller.teacher_recorders.get_recorder(
        'layer1').data_buffer[0]
    expected = torch.float32 if feature_dtype else torch.bfloat16
    assert recorded.dtype == expected and not recorded.is_inference()
    step_and_check_grads(model, losses)


def test_inference_mode_feeds_a_trainable_teacher_connector(batch):
    """Autograd must save the teacher feature for the adapter's conv
    backward, which inference tensors forbid."""
    torch.manual_seed(0)
    reference_model = build(model_cfg(adapter=True))
    reference = reference_model.loss(*batch)
    model = build(model_cfg(adapter=True), reference_model.state_dict(),
                  inference_mode=True, channels_last=True)
    losses = model.loss(*batch)
    for key, value in losses.items():
        torch.testing.assert_close(value, reference[key], rtol=1e-5,
                                   atol=1e-6, msg=key)
    step_and_check_grads(model, losses)
    adapters = model.distiller.connectors
    for i in TEACHER_CHANNELS:
        grad = adapters[f't_adapter{i}'].expand.weight.grad
        assert grad is not None and float(grad.abs().sum()) > 0


def test_default_is_the_plain_path():
    fast = TeacherFastConfig.build(None)
    assert not fast.enabled
    assert TeacherFastConfig.build(dict(autocast_dtype='float16')).enabled


def test_bad_options_are_named():
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['autocast'\]"):
        TeacherFastConfig.build(dict(autocast='bfloat16'))
    with pytest.raises(ValueError, match='autocast_dtype must be one of'):
        TeacherFastConfig.build(dict(autocast_dtype='float64'))
    with pytest.raises(ValueError, match='feature_dtype must be one of'):
        TeacherFastConfig.build(dict(feature_dtype='bfloat16'))
    with pytest.raises(TypeError, match='compile must be a bool or a dict'):
        TeacherFastConfig.build(dict(compile='yes'))


def test_as_normal_tensor_aliases_without_copy():
    with torch.inference_mode():
        frozen = torch.randn(2, 3, 4, 5).contiguous(
            memory_format=torch.channels_last)
    alias = as_normal_tensor(frozen)
    assert frozen.is_inference() and not alias.is_inference()
    assert alias.data_ptr() == frozen.data_ptr()
    assert alias.stride() == frozen.stride()
    torch.testing.assert_close(alias, frozen)
    student = torch.randn(2, 3, 4, 5, requires_grad=True)
    # mse_loss saves its target for backward.
    torch.nn.functional.mse_loss(student, alias).backward()
    assert student.grad is not None
