from .clamped_accuracy import ClampedTopKAccuracy
from .mean_class_accuracy import (MeanClassAccuracy, mean_class_accuracy,
                                  per_class_accuracy)

__all__ = [
    'ClampedTopKAccuracy', 'MeanClassAccuracy', 'mean_class_accuracy',
    'per_class_accuracy'
]
