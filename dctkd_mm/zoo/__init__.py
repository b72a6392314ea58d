"""The paper's table, the zoo configs that reproduce it, and a report of
this project's results beside the authors'."""
from .paper_table import (AUTHORS_OTHER_METHODS, AUTHORS_TOP1, DATASETS,
                          FIRST_METHODS, METHODS, PAIRS, Cell, config_for,
                          config_name, in_paper, paper_cells)
from .report import Row, collect, format_markdown
from .work_dir_results import Best, WorkDirFormatError, best_top1

__all__ = [
    'AUTHORS_TOP1', 'AUTHORS_OTHER_METHODS', 'DATASETS', 'FIRST_METHODS',
    'METHODS', 'PAIRS', 'Cell', 'config_for', 'config_name', 'in_paper',
    'paper_cells', 'Row', 'collect', 'format_markdown',
    'Best', 'WorkDirFormatError', 'best_top1'
]
