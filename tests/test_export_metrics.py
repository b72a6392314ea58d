"""An exported student's evaluator is MMPretrain's own and stays valid
for a dataset of fewer than 5 classes (issue 19): ``ClampedTopKAccuracy``
becomes ``Accuracy`` with each k at most the number of classes."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.evaluation import Accuracy
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import student_config
from dctkd_mm.evaluation import ClampedTopKAccuracy
from utils import FLAGSHIP_CONFIG


def exported_evaluator(num_classes):
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    cfg.model.architecture.head.num_classes = num_classes
    cfg.model.teacher.head.num_classes = num_classes
    return student_config(cfg).test_evaluator


def predictions(num_classes, count=12):
    torch.manual_seed(0)
    return [
        DataSample().set_pred_score(torch.rand(num_classes).softmax(0))
        .set_gt_label(i % num_classes).to_dict() for i in range(count)
    ]


@pytest.mark.parametrize('num_classes,topk', [(365, (1, 5)), (4, (1, 4)),
                                              (1, (1, ))])
def test_exported_accuracy_is_mmpretrains_with_valid_topk(num_classes, topk):
    evaluator = exported_evaluator(num_classes)
    assert 'ClampedTopKAccuracy' not in repr(evaluator)
    accuracy, = [m for m in evaluator if m['type'] == 'Accuracy']
    assert tuple(accuracy['topk']) == topk
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        metric = METRICS.build(accuracy)
    assert type(metric) is Accuracy
    samples = predictions(num_classes)
    metric.process(None, samples)
    theirs = metric.evaluate(len(samples))
    # The numbers ours reports under the zoo's keys.
    ours = ClampedTopKAccuracy(topk=(1, 5))
    ours.process(None, samples)
    ours = ours.evaluate(len(samples))
    assert theirs['accuracy/top1'] == ours['accuracy/top1']
    assert theirs[f'accuracy/top{topk[-1]}'] == ours['accuracy/top5']
