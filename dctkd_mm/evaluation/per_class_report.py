"""Write a confusion matrix as the files a user reads: per-class accuracy
and the matrix as CSV, a heat map (up to ``max_heatmap_classes``) and the
most frequent confusions (any size; the only readable view of 365 or 1,055
scene classes)."""
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch

from .metrics.mean_class_accuracy import per_class_accuracy

#: Above this many classes a heat map's cells are too small to read.
MAX_HEATMAP_CLASSES = 100


def top_confusions(matrix: torch.Tensor, classes: Sequence[str],
                   k: int = 20) -> List[Dict[str, object]]:
    """The ``k`` largest off-diagonal counts: true class, predicted class,
    count, and their share of the true class's samples (percent)."""
    matrix = torch.as_tensor(matrix).long()
    off = matrix.clone()
    off.fill_diagonal_(0)
    count = min(k, int((off > 0).sum()))
    values, flat = off.flatten().topk(count) if count else (off[:0, 0], [])
    totals = matrix.sum(dim=1)
    rows = []
    for value, index in zip(values.tolist(), torch.as_tensor(flat).tolist()):
        true, pred = divmod(index, matrix.size(1))
        rows.append(dict(true_class=classes[true],
                         predicted_class=classes[pred], count=value,
                         share_of_true_class=100 * value / int(totals[true])))
    return rows


def _write_csv(path: str, header: Sequence[str], rows) -> str:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_per_class_report(
        matrix: torch.Tensor,
        classes: Optional[Sequence[str]],
        out_dir: str,
        top_k: int = 20,
        max_heatmap_classes: int = MAX_HEATMAP_CLASSES) -> Dict[str, str]:
    """Write into ``out_dir``:

    - ``per_class_accuracy.csv``: index, class, samples, correct, accuracy
      (percent, empty for a class with no sample);
    - ``confusion_matrix.csv``: counts, rows = true class, columns =
      predicted class;
    - ``top_confusions.csv``: the ``top_k`` most frequent confusions;
    - ``confusion_matrix.png``: a heat map of the matrix in percent of
      each true class (drawn by MMPretrain's ``ConfusionMatrix.plot``, with
      the values written in up to 20 classes), only with at most
      ``max_heatmap_classes`` classes.

    Returns the paths written, by kind.
    """
    matrix = torch.as_tensor(matrix).long()
    num_classes = matrix.size(0)
    if matrix.shape != (num_classes, num_classes):
        raise ValueError(f'confusion matrix must be square, got shape '
                         f'{tuple(matrix.shape)}')
    classes = list(classes) if classes else [str(i)
                                             for i in range(num_classes)]
    if len(classes) != num_classes:
        raise ValueError(f'{len(classes)} class names for a '
                         f'{num_classes}-class confusion matrix')
    os.makedirs(out_dir, exist_ok=True)
    accuracy = per_class_accuracy(matrix)
    written = {}
    written['per_class'] = _write_csv(
        osp.join(out_dir, 'per_class_accuracy.csv'),
        ['index', 'class', 'samples', 'correct', 'accuracy'],
        [[i, name, int(matrix[i].sum()), int(matrix[i, i]),
          '' if accuracy[i].isnan() else f'{float(accuracy[i]):.4f}']
         for i, name in enumerate(classes)])
    written['matrix'] = _write_csv(
        osp.join(out_dir, 'confusion_matrix.csv'), ['true \\ predicted'] +
        classes, [[name] + matrix[i].tolist()
                  for i, name in enumerate(classes)])
    confusions = top_confusions(matrix, classes, top_k)
    written['top_confusions'] = _write_csv(
        osp.join(out_dir, 'top_confusions.csv'),
        ['true_class', 'predicted_class', 'count', 'share_of_true_class'],
        [[r['true_class'], r['predicted_class'], r['count'],
          f'{r["share_of_true_class"]:.4f}'] for r in confusions])
    if num_classes <= max_heatmap_classes:
        written['heatmap'] = _write_heatmap(
            matrix, classes, osp.join(out_dir, 'confusion_matrix.png'))
    return written


def _write_heatmap(matrix: torch.Tensor, classes: List[str],
                   path: str) -> str:
    import matplotlib
    matplotlib.use('Agg')  # files only, whatever the display
    import matplotlib.pyplot as plt
    from mmpretrain.evaluation import ConfusionMatrix
    totals = matrix.sum(dim=1, keepdim=True).clamp(min=1)
    # Percent of each true class, whole numbers (plot prints them with 'd').
    percent = (100 * matrix.double() / totals).round().long()
    figure = ConfusionMatrix.plot(
        percent, include_values=len(classes) <= 20, classes=classes,
        show=False)
    figure.axes[0].set_title('confusion matrix, % of each true class')
    figure.savefig(path, bbox_inches='tight', dpi=100)
    plt.close(figure)
    return path
