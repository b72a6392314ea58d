"""RecorderListDistiller: one DCT loss call for all stages from the real
configs, equal to the authors' formula, with per-stage values logged but
not counted twice in the total."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401
from utils import (FLAGSHIP_CONFIG, REPO_ROOT, make_places365_tree,
                   read_scalars, write_tiny_distill_config)

STAGES = ['layer1', 'layer2', 'layer3', 'layer4']


def authors_loss(student, teacher):
    """Per-sample loss of one stage as the authors' DFTOurs computes it
    (numpy, float64): min-max, minus mean, real 2-D DFT, min-max, L2."""

    def unit(x):
        low = x.min(axis=(-2, -1), keepdims=True)
        return (x - low) / (x.max(axis=(-2, -1), keepdims=True) - low)

    specs = []
    for feat in (student, teacher):
        amap = unit((feat.astype(np.float64)**2).mean(axis=1))
        amap = amap - amap.mean(axis=(-2, -1), keepdims=True)
        specs.append(unit(np.fft.fft2(amap).real))
    return np.sqrt(((specs[0] - specs[1])**2).sum(axis=(-2, -1)))


def flagship_model(num_classes=5):
    cfg = Config.fromfile(FLAGSHIP_CONFIG).model
    cfg.architecture.head.num_classes = num_classes
    cfg.teacher.head.num_classes = num_classes
    cfg.teacher_ckpt = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.train()  # returns None
    return model, cfg


def test_flagship_has_one_dct_loss_over_four_stages():
    _, cfg = flagship_model()
    distiller = cfg.distiller
    assert distiller.type == 'RecorderListDistiller'
    assert list(distiller.distill_losses) == ['loss_dct']
    mapping = distiller.loss_forward_mappings.loss_dct
    assert mapping.s_feature.recorder == STAGES
    assert mapping.t_feature.recorder == STAGES
    assert distiller.distill_losses.loss_dct.get(
        'transform', 'dft_real') == 'dft_real'


def test_one_call_equals_authors_formula_summed_over_stages_and_gated():
    model, _ = flagship_model()
    inputs = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        predicted = model.teacher(inputs, mode='tensor').argmax(1)
    # The teacher is right on samples 0 and 2, wrong on sample 1.
    labels = predicted.clone()
    labels[1] = (labels[1] + 1) % 5
    samples = [DataSample().set_gt_label(int(i)) for i in labels]
    losses = model.loss(inputs, samples)
    distiller = model.distiller
    per_sample = sum(
        authors_loss(
            distiller.student_recorders.get_recorder(s).data_buffer[0]
            .detach().numpy(),
            distiller.teacher_recorders.get_recorder(s).data_buffer[0]
            .numpy()) for s in STAGES)
    expected = (per_sample[0] + per_sample[2]) / 3
    assert expected > 0
    np.testing.assert_allclose(float(losses['distill.loss_dct']), expected,
                               rtol=1e-5)
    stages = torch.stack([losses[f'distill.dct_{s}'] for s in STAGES])
    assert not stages.requires_grad
    torch.testing.assert_close(stages.sum(),
                               losses['distill.loss_dct'].detach())
    total, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(
        total, losses['student.loss'] + losses['distill.loss_dct'])
    assert 'distill.dct_layer1' in log_vars


def test_runner_logs_stages_and_counts_the_loss_once(tmp_path):
    from mmengine.runner import Runner
    data_root = str(tmp_path / 'data')
    make_places365_tree(data_root)
    cfg_path = write_tiny_distill_config(str(tmp_path / 'cfg.py'), data_root,
                                         seed=0)
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None  # train only
    # MMEngine logs 'loss' keys as window means, others as current values.
    cfg.log_processor = dict(window_size=1)
    Runner.from_cfg(cfg).train()
    rows = [r for r in read_scalars(cfg.work_dir) if 'distill.loss_dct' in r]
    assert any(row['distill.loss_dct'] > 0 for row in rows)
    for row in rows:
        stages = [row[f'distill.dct_{s}'] for s in STAGES]
        assert row['distill.loss_dct'] == pytest.approx(sum(stages),
                                                        rel=1e-4, abs=1e-6)
        assert row['loss'] == pytest.approx(
            row['student.loss'] + row['distill.loss_dct'], rel=1e-4)


def test_mobilenet_v2_student_records_the_authors_stages():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'distill',
                 'dct_resnet50_mobilenet-v2.py')).model
    sources = {name: rec.source for name, rec in
               cfg.distiller.student_recorders.items()}
    assert sources == dict(layer1='backbone.layer2',
                           layer2='backbone.layer3',
                           layer3='backbone.layer5',
                           layer4='backbone.conv2')
    cfg.architecture.head.num_classes = 3
    cfg.teacher.head.num_classes = 3
    model = MODELS.build(cfg)
    model.train()
    samples = [DataSample().set_gt_label(i) for i in (0, 1)]
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    distiller = model.distiller
    for stage in STAGES:
        s = distiller.student_recorders.get_recorder(stage).data_buffer[0]
        t = distiller.teacher_recorders.get_recorder(stage).data_buffer[0]
        assert s.shape[-2:] == t.shape[-2:], stage
    assert distiller.student_recorders.get_recorder(
        'layer4').data_buffer[0].shape[1] == 1280
    assert torch.isfinite(losses['distill.loss_dct'])


def distiller_cfg(**mapping_changes):
    cfg = copy.deepcopy(Config.fromfile(FLAGSHIP_CONFIG).model.distiller)
    cfg.type = 'RecorderListDistiller'
    for key, value in mapping_changes.items():
        cfg.loss_forward_mappings.loss_dct[key] = value
    return cfg


def build_distiller(cfg):
    # Whatever default scope an earlier Runner left behind.
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(cfg)


def test_bad_lists_are_named():
    with pytest.raises(ValueError, match=r"recorder lists have different "
                       r"lengths \[3, 4\]"):
        build_distiller(distiller_cfg(t_feature=dict(
            recorder=STAGES[:3], from_student=False)))
    with pytest.raises(ValueError, match='2 connectors for 4 recorders'):
        build_distiller(distiller_cfg(t_feature=dict(
            recorder=STAGES, from_student=False, connector=['a', 'b'])))
    cfg = distiller_cfg()
    cfg.distill_losses = dict(loss_x=cfg.distill_losses.loss_dct)
    cfg.loss_forward_mappings = dict(
        loss_x=cfg.loss_forward_mappings.loss_dct)
    cfg.student_recorders['loss_stage'] = cfg.student_recorders.layer1
    cfg.teacher_recorders['loss_stage'] = cfg.teacher_recorders.layer1
    for side in ('s_feature', 't_feature'):
        cfg.loss_forward_mappings.loss_x[side].recorder = ['loss_stage']
    with pytest.raises(ValueError, match="'x_loss_stage' of loss 'loss_x' "
                       "contains 'loss'"):
        build_distiller(cfg)


def test_unknown_recorder_in_a_list_is_named_from_the_config():
    from dctkd_mm.models.algorithms.distill_config_checks import \
        DistillConfigError
    cfg = Config.fromfile(FLAGSHIP_CONFIG).model
    cfg.teacher_ckpt = None
    cfg.distiller.loss_forward_mappings.loss_dct.s_feature.recorder = [
        'layer1', 'layer9']
    with pytest.raises(DistillConfigError,
                       match=r"\['loss_dct'\]\['s_feature'\] reads recorder "
                       r"'layer9', which is not in student_recorders"):
        MODELS.build(cfg)
