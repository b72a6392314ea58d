"""The paper's table with the authors' numbers beside the best top-1 of
this project's runs, read from the zoo's work dirs."""
import os.path as osp
from typing import Iterable, List, NamedTuple, Optional

from .paper_table import (DATASET_TITLES, METHOD_TITLES, PAIR_TITLES, Cell,
                          config_name, paper_cells)
from .work_dir_results import Best, best_top1


class Row(NamedTuple):
    cell: Cell
    ours: Optional[Best]


def collect(work_dirs: str, datasets: Iterable[str]) -> List[Row]:
    """One row per cell; ``work_dirs/<config name>`` is each config's work
    dir (MMEngine's default ``work_dirs/<config name>``)."""
    return [Row(cell, best_top1(osp.join(work_dirs, config_name(cell.config))))
            for cell in paper_cells(tuple(datasets))]


def _number(value: Optional[float]) -> str:
    return '—' if value is None else f'{value:.2f}'


def format_markdown(rows: List[Row]) -> str:
    """A Markdown table: dataset, pair, method, config, the authors' top-1
    (theirs, published) and ours (best epoch, or — if not trained)."""
    lines = [
        '| Dataset | Pair | Method | Config | Top-1, authors (published) '
        '| Top-1, ours (best epoch) |',
        '|---|---|---|---|---:|---:|',
    ]
    for cell, ours in rows:
        lines.append(
            f'| {DATASET_TITLES[cell.dataset]} | {PAIR_TITLES[cell.pair]} | '
            f'{METHOD_TITLES[cell.method]} | `{cell.config}` | '
            f'{_number(cell.authors_top1)} | '
            f'{_number(None if ours is None else ours.top1)} |')
    return '\n'.join(lines) + '\n'
