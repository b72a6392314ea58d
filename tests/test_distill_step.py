"""The flagship distillation config builds and trains on CPU."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401

FLAGSHIP = osp.join(
    osp.dirname(osp.dirname(__file__)), 'configs',
    'dct_kd_r50_r18_places365.py')


def build_flagship(num_classes=5, algorithm=None, teacher_ckpt=None):
    cfg = Config.fromfile(FLAGSHIP)
    model = cfg.model
    model.architecture.head.num_classes = num_classes
    model.teacher.head.num_classes = num_classes
    model.teacher_ckpt = teacher_ckpt
    if algorithm:
        model.type = algorithm
    return MODELS.build(model)


def distill_terms(losses):
    """The distillation loss terms (summed into the total by MMEngine)."""
    return [k for k in losses if k.startswith('distill.') and 'loss' in k]


def make_batch(num_classes=5, batch=4, size=48):
    torch.manual_seed(0)
    inputs = torch.randint(0, 255, (batch, 3, size, size),
                           dtype=torch.uint8)
    samples = [DataSample().set_gt_label(i % num_classes)
               for i in range(batch)]
    return dict(inputs=list(inputs), data_samples=samples)


@pytest.mark.parametrize('algorithm',
                         ['SingleTeacherDistill', 'FrozenTeacherDistill'])
def test_flagship_trains_a_step(algorithm):
    model = build_flagship(algorithm=algorithm)
    model.init_weights()
    assert type(model).__name__ == algorithm
    teacher_before = {k: v.clone() for k, v in
                      model.teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in
                      model.student.state_dict().items()}
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1))
    model.train()
    log_vars = model.train_step(make_batch(), optim)

    # However the config splits the DCT loss into terms (per stage or one
    # call for all stages), there are distillation loss terms.
    assert distill_terms(log_vars)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log_vars.values())
    assert 'student.loss' in log_vars
    changed = [k for k, v in model.student.state_dict().items()
               if not torch.equal(v, student_before[k])]
    assert any(k.startswith('backbone.conv1') for k in changed)
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k


def test_gating_reaches_the_loss_from_the_config():
    """With a teacher that is wrong on every sample the gated DCT loss is
    zero; with the same teacher made right it is not."""
    model = build_flagship()
    model.init_weights()
    batch = model.data_preprocessor(make_batch(), True)
    fc = model.teacher.head.fc
    with torch.no_grad():
        fc.weight.zero_()
        fc.bias.copy_(torch.arange(5, dtype=torch.float))  # always class 4
    for sample in batch['data_samples']:
        sample.set_gt_label(0)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert distill_terms(losses)
    assert all(float(losses[k]) == 0 for k in distill_terms(losses))
    for sample in batch['data_samples']:
        sample.set_gt_label(4)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert all(float(losses[k]) > 0 for k in distill_terms(losses))


def test_teacher_checkpoint_round_trip(tmp_path):
    donor = build_flagship()
    donor.init_weights()
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': donor.teacher.state_dict(), 'meta': {}}, ckpt)
    model = build_flagship(teacher_ckpt=str(ckpt))
    model.init_weights()  # must not overwrite the loaded teacher
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, donor.teacher.state_dict()[k])
