from .metrics import *  # noqa: F401,F403
from .per_class_report import (MAX_HEATMAP_CLASSES, top_confusions,
                               write_per_class_report)
