"""The demo's bar chart: top-1 per arm, mean over seeds with error bars."""
from typing import Dict, List

import numpy as np


def top1_chart(path: str, runs: List[dict], rows: List[dict],
               labels: Dict[str, str], title: str = '') -> str:
    """Write a PNG bar chart to ``path`` and return it.

    One bar per student arm (mean top-1 over seeds), error bars of one
    sample standard deviation, each seed's top-1 as a dot on its bar, and
    the teacher's top-1 as a dashed line when it is in ``rows``.
    """
    import matplotlib
    matplotlib.use('Agg')  # files only; no display on a server
    import matplotlib.pyplot as plt

    arms = [r for r in rows if r['method'] != 'teacher']
    if not arms:
        raise ValueError('top1_chart: no student runs to draw')
    x = np.arange(len(arms))
    fig, ax = plt.subplots(figsize=(1.3 * len(arms) + 2, 4.2), dpi=120)
    ax.bar(x, [r['top1_mean'] for r in arms],
           yerr=[r['top1_std'] for r in arms], capsize=5,
           color=['0.6' if r['method'] == 'baseline' else 'C0'
                  for r in arms], edgecolor='black', linewidth=0.6,
           error_kw=dict(linewidth=1.2))
    for i, row in enumerate(arms):
        seeds = [run['top1'] for run in runs if run['method'] == row['method']]
        ax.plot(np.full(len(seeds), i) +
                np.linspace(-0.15, 0.15, len(seeds)),
                seeds, 'o', color='black', markersize=3, zorder=3)
    teacher = next((r for r in rows if r['method'] == 'teacher'), None)
    if teacher is not None:
        ax.axhline(teacher['top1_mean'], color='C3', linestyle='--',
                   linewidth=1, label=f'teacher {teacher["top1_mean"]:.1f}')
        ax.legend(loc='lower right', fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([labels.get(r['method'], r['method']).replace(
        'ResNet-18 + ', '').replace(' (', '\n(') for r in arms],
                       fontsize=8)
    ax.set_ylabel('top-1 (%), mean ± std over seeds')
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
