"""MMPretrain's top-k accuracy for datasets with fewer classes than k."""
from typing import List, Sequence, Union

from mmengine.logging import print_log
from mmpretrain.evaluation import Accuracy
from mmpretrain.registry import METRICS


@METRICS.register_module()
class ClampedTopKAccuracy(Accuracy):
    """:class:`mmpretrain.evaluation.Accuracy` where a ``k`` above the
    number of classes ``C`` counts as ``C``, instead of MMPretrain's
    ``ValueError`` (``Top-5 accuracy is unavailable since the number of
    categories is 4``).

    The zoo's evaluators ask for ``topk=(1, 5)``, the scene-recognition
    protocol; a dataset (or a quick run) with fewer than 5 classes then
    failed at the first validation. With ``C <= k`` every class is among
    the top ``k``, so top-``k`` accuracy *is* top-``C`` accuracy (100%
    unless a score is at or below ``thrs``): the number is exact, not an
    approximation, and keeps its key (``accuracy/top5``) so that logs and
    ``save_best`` read the same across datasets. An INFO line says so
    once per metric. Same arguments and keys as ``Accuracy``; predicted
    labels without scores give top-1 only, as there.
    """

    def compute_metrics(self, results: List) -> dict:
        if results and 'pred_score' in results[0]:
            num_classes = results[0]['pred_score'].numel()
            clamped = [k for k in self.topk if k > num_classes]
            if clamped and not getattr(self, '_noted', False):
                self._noted = True
                print_log(
                    f'ClampedTopKAccuracy: the predictions have '
                    f'{num_classes} classes, so '
                    f'{", ".join(f"top-{k}" for k in clamped)} accuracy '
                    f'is computed as top-{num_classes} (every class is '
                    'among the top k).', logger='current')
        return super().compute_metrics(results)

    @staticmethod
    def calculate(pred, target, topk: Sequence[int] = (1, ),
                  thrs: Sequence[Union[float, None]] = (0., )):
        """``Accuracy.calculate`` with each ``k`` at most the number of
        classes of ``pred`` scores (N, C)."""
        if getattr(pred, 'ndim', 1) == 2:
            topk = [min(k, pred.shape[1]) for k in topk]
        return Accuracy.calculate(pred, target, topk, thrs)
