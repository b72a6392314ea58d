"""MeanClassAccuracy (with per-class accuracy and the confusion matrix)
against hand-computed values and MMPretrain's ConfusionMatrix, alone, next
to the configured scene evaluator, and across two gloo ranks."""
import multiprocessing
import os.path as osp
import socket

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmpretrain.evaluation import ConfusionMatrix
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import dctkd_mm  # noqa: F401  (registers the metric)
from dctkd_mm.evaluation import MeanClassAccuracy
from utils import REPO_ROOT as REPO

# Class 3 is predicted once but absent from the ground truth.
TRUTH = [0, 0, 0, 0, 1, 1, 2]
PREDICTED = [0, 0, 0, 3, 1, 0, 2]
# Per present class: 3/4, 1/2, 1/1 -> mean 0.75. Top-1 is 5/7.
EXPECTED = 100 * (3 / 4 + 1 / 2 + 1 / 1) / 3


def samples(truth=TRUTH, predicted=PREDICTED, with_scores=True):
    out = []
    for gt, pred in zip(truth, predicted):
        sample = DataSample().set_gt_label(gt)
        if with_scores:
            # 6 scores so that top-5 exists; no ties: lower index wins.
            score = 0.1 - 0.01 * torch.arange(6.)
            score[pred] = 0.7
            sample.set_pred_score(score)
        else:
            sample.set_pred_label(pred)
        out.append(sample)
    return out


def evaluate(metric, data_samples, size=None):
    evaluator = Evaluator(metric)
    evaluator.process(data_samples)
    return evaluator.evaluate(size or len(data_samples))


@pytest.mark.parametrize('with_scores', [True, False])
def test_hand_computed_value_skips_absent_class(with_scores):
    result = evaluate(MeanClassAccuracy(), samples(with_scores=with_scores))
    assert result == {'accuracy/mean_class': pytest.approx(EXPECTED)}


@pytest.mark.parametrize('with_scores', [True, False])
def test_per_class_and_confusion_matrix_are_mmpretrains_counts(with_scores):
    result = evaluate(MeanClassAccuracy(per_class=True),
                      samples(with_scores=with_scores))
    matrix = result['accuracy/confusion_matrix']
    # Scores give 6 classes, labels alone the largest label seen (3) + 1.
    num_classes = 6 if with_scores else 4
    expected = ConfusionMatrix.calculate(PREDICTED, TRUTH, num_classes)
    assert torch.equal(matrix, expected)
    assert matrix[0].tolist()[:4] == [3, 0, 0, 1]  # one class-0 sample -> 3
    per_class = result['accuracy/per_class']
    assert per_class[:3].tolist() == pytest.approx([75.0, 50.0, 100.0])
    assert per_class[3:].isnan().all()  # no samples of classes 3..
    # Mean class accuracy is read from the same counts.
    assert result['accuracy/mean_class'] == pytest.approx(EXPECTED)
    assert result['accuracy/mean_class'] == pytest.approx(
        per_class[~per_class.isnan()].mean().item())


def test_is_mmpretrains_confusion_matrix_metric():
    assert issubclass(MeanClassAccuracy, ConfusionMatrix)
    metric = METRICS.build(dict(type='MeanClassAccuracy', per_class=True))
    assert isinstance(metric, ConfusionMatrix) and metric.per_class


def test_differs_from_macro_recall_over_all_classes():
    # The reason for the metric: macro recall averages over all 6 scored
    # classes and counts the absent classes 3, 4 and 5 as 0.
    macro = METRICS.build(dict(type='SingleLabelMetric', items=('recall', )))
    recall = evaluate(macro, samples())['single-label/recall']
    assert recall == pytest.approx(100 * (3 / 4 + 1 / 2 + 1) / 6)
    assert recall < EXPECTED


def test_balanced_classes_equal_top1_and_prefix_is_configurable():
    truth, predicted = [0, 0, 1, 1], [0, 1, 1, 1]
    result = evaluate(
        MeanClassAccuracy(prefix='val'), samples(truth, predicted))
    assert result == {'val/mean_class': pytest.approx(75.0)}


def test_scene_evaluator_from_config_reports_all_keys():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/scene_pipelines.py'))
    metrics = [METRICS.build(m) for m in cfg.scene_evaluator]
    result = evaluate(metrics, samples())
    assert result['accuracy/top1'] == pytest.approx(100 * 5 / 7)
    assert result['accuracy/top5'] == pytest.approx(100.0)
    assert result['accuracy/mean_class'] == pytest.approx(EXPECTED)


def test_rejects_empty_and_multi_label_input():
    with pytest.raises(ValueError, match='no sample'):
        MeanClassAccuracy().compute_metrics([])
    metric = MeanClassAccuracy()
    with pytest.raises(ValueError, match='one gt_label per sample'):
        metric.process(None, [{
            'pred_score': torch.tensor([0.2, 0.8]),
            'gt_label': torch.tensor([0, 1])
        }])


def _rank_main(rank, port, queue):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=2)
    try:
        # DefaultSampler's split: 7 samples padded to 8 with sample 0,
        # rank r takes every second one from r. Were the padding counted,
        # class 0 would score 4/5 and the mean would change.
        all_samples = samples()
        indices = list(range(7)) + [0]
        mine = [all_samples[i] for i in indices[rank::2]]
        queue.put((rank, evaluate(MeanClassAccuracy(), mine, size=7)))
    finally:
        dist.destroy_process_group()


def test_distributed_evaluation_matches_single_process():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_rank_main, args=(rank, port, queue))
        for rank in range(2)
    ]
    for worker in workers:
        worker.start()
    results = dict(queue.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert results[0] == results[1] == {
        'accuracy/mean_class': pytest.approx(EXPECTED)
    }


def test_report_of_many_classes_lists_top_confusions_without_heat_map(
        tmp_path):
    from dctkd_mm.evaluation import MAX_HEATMAP_CLASSES, write_per_class_report
    n = MAX_HEATMAP_CLASSES + 1
    matrix = torch.eye(n, dtype=torch.long) * 10
    matrix[3, 7], matrix[5, 2], matrix[9, 9] = 6, 4, 0  # 9: no sample
    classes = [f'c{i}' for i in range(n)]
    written = write_per_class_report(matrix, classes, str(tmp_path), top_k=5)
    assert 'heatmap' not in written
    assert not (tmp_path / 'confusion_matrix.png').exists()
    rows = (tmp_path / 'top_confusions.csv').read_text().splitlines()
    assert rows[1:] == ['c3,c7,6,37.5000', 'c5,c2,4,28.5714']
    per_class = (tmp_path / 'per_class_accuracy.csv').read_text()
    assert '9,c9,0,0,\n' in per_class and '3,c3,16,10,62.5000' in per_class
    written = write_per_class_report(matrix[:4, :4], classes[:4],
                                     str(tmp_path / 'small'))
    assert osp.getsize(written['heatmap']) > 1000
    with pytest.raises(ValueError, match='3 class names'):
        write_per_class_report(matrix[:4, :4], classes[:3], str(tmp_path))
