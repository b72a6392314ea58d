"""The paper's table, the zoo configs that reproduce it, and a report of
this project's results beside the authors'."""
from .paper_table import (AUTHORS_TOP1, DATASETS, METHODS, PAIRS, Cell,
                          config_for, config_name, paper_cells)
from .report import Row, collect, format_markdown
from .work_dir_results import Best, WorkDirFormatError, best_top1

__all__ = [
    'AUTHORS_TOP1', 'DATASETS', 'METHODS', 'PAIRS', 'Cell', 'config_for',
    'config_name', 'paper_cells', 'Row', 'collect', 'format_markdown',
    'Best', 'WorkDirFormatError', 'best_top1'
]
