"""A teacher built from its config and loaded from its checkpoint draws no
random initialisation (``dctkd_mm.models.utils.checkpoint_build``): it is
the checkpoint exactly, the student built after it starts from the same
weights as the student built alone under the same seed, and where a
random draw is not overwritten by the load the teacher is built as
usual."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401
from dctkd_mm.models.utils.checkpoint_build import (RandomFillsZeroed,
                                                    build_then_load)
from utils import FLAGSHIP_CONFIG

pytestmark = pytest.mark.usefixtures('restore_default_scope')
NUM_CLASSES = 4


@pytest.fixture(scope='module')
def flagship(tmp_path_factory):
    """The flagship's model for 4 classes and a teacher checkpoint of it
    (random weights, saved as the runner saves them)."""
    model = Config.fromfile(FLAGSHIP_CONFIG).model
    model.architecture.head.num_classes = NUM_CLASSES
    model.teacher.head.num_classes = NUM_CLASSES
    torch.manual_seed(7)
    teacher = MODELS.build(model.teacher)
    for module in teacher.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 1.5)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(meta=dict(epoch=70), state_dict=teacher.state_dict()),
               path)
    model.teacher_ckpt = path
    return model, teacher.state_dict()


def test_loaded_teacher_is_the_checkpoint_and_the_student_its_seeds(
        flagship):
    model, saved = flagship
    torch.manual_seed(0)
    distill = MODELS.build(model)
    torch.manual_seed(0)
    alone = MODELS.build(model.architecture)
    teacher = distill.teacher.state_dict()
    assert teacher.keys() == saved.keys()
    assert all(torch.equal(teacher[k], saved[k]) for k in saved)
    student, expected = distill.student.state_dict(), alone.state_dict()
    assert student.keys() == expected.keys()
    assert all(torch.equal(student[k], expected[k]) for k in expected)
    # The student did get a random initialisation (not zeros).
    assert student['backbone.conv1.weight'].std() > 0


def test_random_fills_write_zeros_and_record_their_storage():
    with RandomFillsZeroed() as fills:
        linear = nn.Linear(3, 5)
        conv = nn.Conv2d(2, 4, 3)
        nn.init.trunc_normal_(conv.weight, std=0.02)
        noise = torch.empty(6).normal_()
    for tensor in (linear.weight, linear.bias, conv.weight, noise):
        assert torch.equal(tensor, torch.zeros_like(tensor))
    filled = {s.data_ptr() for s in fills.filled}
    assert {t.untyped_storage().data_ptr()
            for t in (linear.weight, linear.bias, conv.weight, noise)
            } <= filled
    # Deterministic fills still run.
    with RandomFillsZeroed():
        norm = nn.BatchNorm2d(3)
    assert torch.equal(norm.weight, torch.ones(3))


class _DrawsOutsideItsStateDict(nn.Module):
    """A linear layer and a random buffer its state dict does not hold."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.register_buffer('noise', torch.empty(8).normal_(),
                             persistent=False)


class _InitialisedFromATemporary(nn.Module):

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(4, 4))
        nn.init.orthogonal_(self.weight)  # from a temporary drawn at random


@pytest.mark.parametrize('module', [_DrawsOutsideItsStateDict,
                                    _InitialisedFromATemporary])
def test_a_draw_the_load_does_not_replace_is_kept(module):
    torch.manual_seed(3)
    source = module().state_dict()
    builds = []

    def build():
        builds.append(module())
        return builds[-1]

    model = build_then_load(build, lambda m: m.load_state_dict(source))
    assert len(builds) == 2  # built again as usual
    assert all(torch.equal(model.state_dict()[k], v)
               for k, v in source.items())
    if module is _DrawsOutsideItsStateDict:
        assert model.noise.abs().sum() > 0


def test_a_load_that_replaces_every_draw_builds_once():
    source = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                           nn.Linear(4, 2)).state_dict()
    builds = []

    def build():
        builds.append(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                                    nn.Linear(4, 2)))
        return builds[-1]

    model = build_then_load(build, lambda m: m.load_state_dict(source))
    assert len(builds) == 1
    assert all(torch.equal(model.state_dict()[k], v)
               for k, v in source.items())


def test_a_failed_load_raises():
    with pytest.raises(RuntimeError, match='Missing key'):
        build_then_load(lambda: nn.Linear(2, 2),
                        lambda m: m.load_state_dict({}))
