from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class MeanClassAccuracy(BaseMetric):
    """Mean over classes of the per-class top-1 accuracy, in percent.

    The scene-recognition protocol reports it next to top-1/top-5 because
    the test sets are class-imbalanced (López-Cifuentes et al., "Semantic-
    Aware Scene Recognition", Pattern Recognition 2020, and the DCT-KD
    paper, https://arxiv.org/abs/2205.01997). For each class ``c`` present
    in the ground truth, ``acc_c`` = correct predictions among the samples
    of class ``c`` / samples of class ``c``; the result is the plain mean of
    ``acc_c`` over those classes, times 100.

    Classes absent from the evaluated ground truth are left out of the
    mean. MMPretrain's ``SingleLabelMetric(average='macro')`` recall instead
    averages over all ``num_classes`` and counts an absent class as 0, which
    understates the score on a subset (``indices=...``) or on a split that
    lacks some classes (ADE20K's val set does not have all 1,055).

    Only the predicted and true labels are kept per sample (two ints, not a
    score vector), so ``collect_results`` across ranks stays cheap;
    :class:`~mmengine.evaluator.BaseMetric` gathers them and drops the
    sampler's padding, so distributed evaluation gives the same number.

    The result key is ``accuracy/mean_class`` (``default_prefix`` is
    ``'accuracy'``, like MMPretrain's ``Accuracy``, whose keys are
    ``accuracy/top1`` and ``accuracy/top5``).

    Args:
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Replaces ``'accuracy'`` in the key.
    """
    default_prefix: Optional[str] = 'accuracy'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep ``(predicted label, true label)`` of each sample."""
        for sample in data_samples:
            if 'pred_score' in sample:
                predicted = int(sample['pred_score'].argmax())
            else:
                predicted = _single_label(sample['pred_label'], 'pred_label')
            self.results.append(
                (predicted, _single_label(sample['gt_label'], 'gt_label')))

    def compute_metrics(self, results: List[Tuple[int, int]]) -> dict:
        """``{'mean_class': mean per-class accuracy in percent}``."""
        if not results:
            raise ValueError('MeanClassAccuracy: no sample was evaluated.')
        predicted, truth = torch.tensor(results, dtype=torch.long).unbind(1)
        num_classes = int(truth.max()) + 1
        per_class_total = torch.bincount(truth, minlength=num_classes)
        per_class_correct = torch.bincount(
            truth[predicted == truth], minlength=num_classes)
        present = per_class_total > 0
        per_class_accuracy = (per_class_correct[present].double() /
                              per_class_total[present].double())
        return {'mean_class': per_class_accuracy.mean().item() * 100}


def _single_label(label, key: str) -> int:
    label = torch.as_tensor(label)
    if label.numel() != 1:
        raise ValueError(f'MeanClassAccuracy: expects one {key} per sample '
                         f'(single-label classification), got shape '
                         f'{tuple(label.shape)}.')
    return int(label)
