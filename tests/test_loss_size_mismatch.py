"""DCTAttentionLoss says when it resizes a stage pair (issue 19): a
ConvNeXt-atto student against a ResNet teacher at 56 px has 3x3 and 1x1
maps where the teacher's are 4x4 and 2x2; the loss compared them at the
smaller size without a word, and a 1x1 map normalises to zeros (the
``distill.dct_layer4`` of 0.0000 on every iteration)."""
import logging
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.models import ConvNeXt
from mmrazor.registry import MODELS

import dctkd_mm  # noqa: F401  (registers DCTAttentionLoss)
from utils import REPO_ROOT

STAGES = osp.join(REPO_ROOT, 'configs/_base_/distill/dct_resnet_stages.py')
# ResNet stage outputs at 56 px input: strides 4, 8, 16, 32.
RESNET_56PX = [(14, 14), (7, 7), (4, 4), (2, 2)]


class Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def warnings_logged():
    """The WARNING records of a fresh current MMLogger."""
    logger = MMLogger.get_instance(f'size-mismatch-{uuid.uuid4().hex}')
    handler = Records()
    logger.addHandler(handler)
    yield lambda: [r.getMessage() for r in handler.records
                   if r.levelno == logging.WARNING]
    logger.removeHandler(handler)


def zoo_loss(**options):
    """The zoo's DCT loss, as its distillers build it."""
    cfg = Config.fromfile(STAGES).dct_distiller.distill_losses.loss_dct
    return MODELS.build(dict(cfg, **options))


def convnext_atto_and_resnet_maps(batch=2):
    torch.manual_seed(0)
    student = ConvNeXt(arch='atto', out_indices=(0, 1, 2, 3),
                       gap_before_final_norm=False)
    student.eval()  # (its train() returns None: no chaining)
    with torch.no_grad():
        s_feats = list(student(torch.rand(batch, 3, 56, 56)))
    t_feats = [torch.rand(batch, 8, h, w) for h, w in RESNET_56PX]
    return s_feats, t_feats


def test_convnext_student_warns_once_per_stage_pair(warnings_logged):
    s_feats, t_feats = convnext_atto_and_resnet_maps()
    assert [tuple(f.shape[-2:]) for f in s_feats] == [(14, 14), (7, 7),
                                                     (3, 3), (1, 1)]
    loss = zoo_loss()
    for _ in range(3):
        assert torch.isfinite(loss(s_feats, t_feats))
    assert warnings_logged() == [
        'DCTAttentionLoss: at scale 2 the student map is 3x3 and the '
        'teacher map 4x4; both are compared at 3x3 (area resize). Pair '
        'stages of equal size (or change the input size) if that is not '
        'intended.',
        'DCTAttentionLoss: at scale 3 the student map is 1x1 and the '
        'teacher map 2x2; both are compared at 1x1 (area resize). Pair '
        'stages of equal size (or change the input size) if that is not '
        'intended.',
    ]
    # Another size for the same stage (another input size) is news.
    loss([s_feats[2]] * 4, [t_feats[1]] * 4)
    assert len(warnings_logged()) == 2 + 4
    assert 'at scale 0 the student map is 3x3 and the teacher map 7x7' in (
        warnings_logged()[2])


def test_equal_sizes_log_nothing(warnings_logged):
    feats = [torch.rand(2, 4, h, w) for h, w in RESNET_56PX]
    zoo_loss()(feats, [f.flip(0) for f in feats])
    assert warnings_logged() == []


def test_size_mismatch_can_be_an_error(warnings_logged):
    s_feats, t_feats = convnext_atto_and_resnet_maps()
    with pytest.raises(ValueError, match=r'scale 2 the student map is 3x3 '
                       r'and the teacher map 4x4.*on_size_mismatch'):
        zoo_loss(on_size_mismatch='error')(s_feats, t_feats)
    with pytest.raises(ValueError, match="'warn', 'error'"):
        zoo_loss(on_size_mismatch='ignore')
