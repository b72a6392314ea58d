"""The demo's measured map-size factors (dctkd_mm.demo.loss_calibration)
with real (narrow) demo networks: what is measured, what is not, and the
errors for losses it cannot measure."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from dctkd_mm.demo import training
from dctkd_mm.demo.loss_calibration import LossCalibration
from dctkd_mm.demo.loss_scaling import (area_ratio, loss_factor,
                                        rescale_distill_losses)
from dctkd_mm.demo.methods import (BASELINE, CONFIG_DIR, DEMO_METHODS,
                                   TEACHER_CONFIG)
from dctkd_mm.demo.settings import parse_args, run_settings

TEACHER = osp.join(CONFIG_DIR, TEACHER_CONFIG)
STUDENT = DEMO_METHODS[BASELINE].config_path


def _settings(image_size: int) -> dict:
    return run_settings(parse_args(['--quick', '--width', '4',
                                    '--image-size', str(image_size)]))


def _arm_config(arm: str, settings: dict) -> Config:
    cfg, _ = training.load_run_config(
        DEMO_METHODS[arm].config_path,
        training.run_options(settings, '', 0, 1, True))
    return cfg


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A teacher and two student seeds' initial weights (random: the
    factors do not need a trained teacher to be tested)."""
    root = tmp_path_factory.mktemp('calibration')
    settings = _settings(32)
    teacher = training.build_classifier(
        TEACHER, training.teacher_options(settings, ''))
    torch.save({'state_dict': dict(teacher.state_dict())},
               str(root / 'teacher.pth'))
    inits = []
    for seed in (0, 1):
        inits.append(str(root / f'init{seed}.pth'))
        training.save_student_init(settings, STUDENT, seed, inits[-1])
    return str(root / 'teacher.pth'), inits


def _calibration(settings, checkpoints) -> LossCalibration:
    return LossCalibration(settings, TEACHER, STUDENT, *checkpoints)


def test_factors_at_the_demo_size(checkpoints):
    """At 32 px (maps 8, 4, 2, 1): AT's first three stages and DCT are
    measured, the pooled factor lying within the seeds' range; AT on the
    1 px map is zero, so the exponent extrapolates; KD is size-free."""
    settings = _settings(32)
    calibration = _calibration(settings, checkpoints)
    at = calibration.arm_factors(_arm_config('at', settings))
    for stage in (1, 2, 3):
        entry = at[f'loss_at_s{stage}']
        assert entry['how'] == 'measured' and len(entry['per_seed']) == 2
        assert min(entry['per_seed']) <= entry['factor'] <= max(
            entry['per_seed'])
    assert at['loss_at_s4']['how'] == 'exponent'
    assert at['loss_at_s4']['factor'] == pytest.approx(
        loss_factor('ATLoss', area_ratio([8, 4, 2, 1])), rel=1e-3)
    dct_kd = calibration.arm_factors(_arm_config('dct+kd', settings))
    assert dct_kd['loss_kd'] == dict(factor=1.0, how='size-free')
    assert dct_kd['loss_dct']['how'] == 'measured'
    assert dct_kd['loss_dct']['factor'] > 0
    # Hints on unit-normalised features (the adaptive-module claims' arms)
    # keep the authors' weight unmeasured.
    assert calibration.arm_factors(_arm_config('hint', settings)) == {
        'loss_hint': dict(factor=1.0, how='size-free')}
    # One measurement per loss and stages, shared by the arms.
    assert calibration.arm_factors(
        _arm_config('dct', settings))['loss_dct'] == dct_kd['loss_dct']


def test_factors_are_one_at_the_authors_size(checkpoints):
    """Demo images of 224 px are the authors' maps: every measured loss
    compares the same maps twice, so its factor is exactly 1."""
    settings = _settings(224)
    calibration = _calibration(settings, checkpoints)
    for arm in ('at', 'dct', 'dct-ii'):
        for name, entry in calibration.arm_factors(
                _arm_config(arm, settings)).items():
            assert (entry['how'], entry['factor']) == ('measured', 1.0), name


@pytest.mark.parametrize('change, message', [
    (dict(connector='hint_student'), "connector 'hint_student'"),
    (dict(recorder='missing'), 'expected a ModuleOutputs recorder'),
])
def test_losses_it_cannot_measure_are_named(checkpoints, change, message):
    settings = _settings(32)
    cfg = _arm_config('at', settings)
    cfg.model.distiller.loss_forward_mappings.loss_at_s2.s_feature.update(
        change)
    with pytest.raises(ValueError, match=message) as info:
        _calibration(settings, checkpoints).arm_factors(cfg)
    assert 'loss_at_s2.s_feature' in str(info.value)


def test_every_distill_loss_needs_a_factor():
    cfg = _arm_config('dct+kd', _settings(32))
    with pytest.raises(KeyError, match=r"\['loss_kd'\]"):
        rescale_distill_losses(cfg, {'loss_dct': 2.0})
    applied = rescale_distill_losses(cfg, {'loss_dct': 2.0, 'loss_kd': 1.0})
    assert cfg.model.distiller.distill_losses.loss_dct.loss_weight == 2.0
    assert applied['loss_dct'] == dict(type='DCTAttentionLoss',
                                       authors_weight=1.0, factor=2.0,
                                       weight=2.0)


def test_a_distillation_run_without_factors_is_refused(tmp_path):
    """The authors' weights unscaled would be silently wrong at the demo's
    map sizes: the run stops before training."""
    settings = _settings(32)
    job = training.student_job(DEMO_METHODS['dct'], settings, str(tmp_path),
                               0, '', '', str(tmp_path))
    with pytest.raises(ValueError, match='no map-size factors'):
        training.run_job(job)
