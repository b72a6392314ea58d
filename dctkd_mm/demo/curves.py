"""The demo's learning curves: validation top-1 per epoch, one line per
arm (mean over seeds) with a band from the lowest to the highest seed."""
from typing import Dict, List

import numpy as np


def curve_data(runs: List[dict]) -> Dict[str, dict]:
    """Per student arm (first-appearance order): ``epochs`` validated by
    every seed, and the ``mean``, ``low`` (min) and ``high`` (max) top-1
    over the seeds at those epochs."""
    by_arm: Dict[str, List[dict]] = {}
    for run in runs:
        if run['method'] != 'teacher' and run.get('curve'):
            by_arm.setdefault(run['method'], []).append(
                {int(e): float(v) for e, v in run['curve']})
    out = {}
    for arm, curves in by_arm.items():
        epochs = sorted(set.intersection(*(set(c) for c in curves)))
        values = np.array([[c[e] for e in epochs] for c in curves])
        out[arm] = dict(epochs=epochs, seeds=len(curves),
                        mean=values.mean(0).tolist(),
                        low=values.min(0).tolist(),
                        high=values.max(0).tolist())
    return out


def learning_curves(path: str, runs: List[dict], labels: Dict[str, str],
                    title: str = '') -> dict:
    """Write the PNG to ``path``; return ``path``, the drawn ``arms``
    (:func:`curve_data`) and ``lines``, the number of arm lines on the
    axes (the teacher's dashed level is not counted)."""
    import matplotlib
    matplotlib.use('Agg')  # files only; no display on a server
    import matplotlib.pyplot as plt

    arms = curve_data(runs)
    if not arms:
        raise ValueError('learning_curves: no student run has a curve')
    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    for i, (arm, data) in enumerate(arms.items()):
        colour = '0.3' if arm == 'baseline' else f'C{i % 10}'
        ax.plot(data['epochs'], data['mean'], marker='o', markersize=3,
                color=colour, linewidth=1.6 if arm == 'baseline' else 1.2,
                label=labels.get(arm, arm).replace('ResNet-18 + ', '+ '))
        ax.fill_between(data['epochs'], data['low'], data['high'],
                        color=colour, alpha=0.15, linewidth=0)
    lines = len(ax.get_lines())
    teacher = [r['top1'] for r in runs if r['method'] == 'teacher']
    if teacher:
        ax.axhline(teacher[0], color='C3', linestyle='--', linewidth=1,
                   label=f'teacher {teacher[0]:.1f}')
    ax.set_xlabel('student epoch')
    ax.set_ylabel('validation top-1 (%)')
    ax.set_ylim(0, 100)
    ax.set_title(title or 'Validation top-1: mean over seeds, band = '
                 'lowest to highest seed', fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='lower right')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return dict(path=path, arms=arms, lines=lines)
