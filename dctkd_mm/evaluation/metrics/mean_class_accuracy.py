"""Mean class accuracy, per-class accuracy and the confusion matrix, all
from one set of counts: MMPretrain's :class:`ConfusionMatrix`."""
from typing import List, Optional, Sequence

import torch
from mmpretrain.evaluation import ConfusionMatrix
from mmpretrain.registry import METRICS


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Accuracy in percent of each class (row = true class) of a confusion
    matrix; NaN for a class with no sample."""
    matrix = torch.as_tensor(matrix).double()
    total = matrix.sum(dim=1)
    correct = matrix.diagonal()
    return torch.where(total > 0, 100 * correct / total.clamp(min=1),
                       torch.full_like(total, float('nan')))


def mean_class_accuracy(matrix: torch.Tensor) -> float:
    """Mean of :func:`per_class_accuracy` over the classes with samples."""
    accuracy = per_class_accuracy(matrix)
    present = ~accuracy.isnan()
    if not present.any():
        raise ValueError('MeanClassAccuracy: no sample was evaluated.')
    return accuracy[present].mean().item()


@METRICS.register_module()
class MeanClassAccuracy(ConfusionMatrix):
    """Mean over classes of the per-class top-1 accuracy, in percent, and
    (``per_class=True``) the per-class accuracies and the confusion matrix
    they come from.

    The scene-recognition protocol reports it next to top-1/top-5 because
    the test sets are class-imbalanced (López-Cifuentes et al., "Semantic-
    Aware Scene Recognition", Pattern Recognition 2020, and the DCT-KD
    paper, https://arxiv.org/abs/2205.01997). For each class ``c`` present
    in the ground truth, ``acc_c`` = correct predictions among the samples
    of class ``c`` / samples of class ``c``; the result is the plain mean of
    ``acc_c`` over those classes, times 100.

    The counts are MMPretrain's :class:`ConfusionMatrix` (this class is
    one: same ``process``, same matrix); the accuracies are read from it.
    Classes absent from the evaluated ground truth are left out of the
    mean. MMPretrain's ``SingleLabelMetric(average='macro')`` recall instead
    averages over all ``num_classes`` and counts an absent class as 0, which
    understates the score on a subset (``indices=...``) or on a split that
    lacks some classes (ADE20K's val set does not have all 1,055).

    :class:`~mmengine.evaluator.BaseMetric` gathers the per-sample labels
    across ranks and drops the sampler's padding, so distributed evaluation
    gives the same numbers.

    Result keys (``default_prefix`` is ``'accuracy'``, like MMPretrain's
    ``Accuracy``, whose keys are ``accuracy/top1`` and ``accuracy/top5``):
    ``accuracy/mean_class``; with ``per_class=True`` also
    ``accuracy/per_class`` (a ``(C,)`` tensor, NaN for absent classes) and
    ``accuracy/confusion_matrix`` (``(C, C)``, rows = true class). Those two
    are tensors, kept out of training logs by default; ``tools/test.py
    --per-class-dir`` turns them on and writes them as CSV and a heat map.

    Args:
        num_classes (int, optional): Number of classes. By default the
            length of ``pred_score``, or (labels only) the largest label
            seen plus one.
        per_class (bool): Also return the per-class accuracies and the
            confusion matrix. Defaults to False.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Replaces ``'accuracy'`` in the keys.
    """
    default_prefix: Optional[str] = 'accuracy'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 per_class: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(num_classes=num_classes,
                         collect_device=collect_device, prefix=prefix)
        self.per_class = per_class

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            _check_single_label(sample['gt_label'], 'gt_label')
            if 'pred_score' not in sample:
                _check_single_label(sample['pred_label'], 'pred_label')
        super().process(data_batch, data_samples)

    def compute_metrics(self, results: List[dict]) -> dict:
        if not results:
            raise ValueError('MeanClassAccuracy: no sample was evaluated.')
        pred = torch.cat([torch.as_tensor(r['pred_label']).view(-1)
                          for r in results])
        truth = torch.cat([torch.as_tensor(r['gt_label']).view(-1)
                           for r in results])
        # Labels only: the largest label seen, unless num_classes was given.
        num_classes = self.num_classes or 1 + int(max(pred.max(),
                                                      truth.max()))
        matrix = self.calculate(pred, truth, num_classes)
        metrics = {'mean_class': mean_class_accuracy(matrix)}
        if self.per_class:
            metrics['per_class'] = per_class_accuracy(matrix)
            metrics['confusion_matrix'] = matrix
        return metrics


def _check_single_label(label, key: str) -> None:
    if torch.as_tensor(label).numel() != 1:
        raise ValueError(f'MeanClassAccuracy: expects one {key} per sample '
                         f'(single-label classification), got shape '
                         f'{tuple(torch.as_tensor(label).shape)}.')
