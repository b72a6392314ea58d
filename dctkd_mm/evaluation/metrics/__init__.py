from .mean_class_accuracy import (MeanClassAccuracy, mean_class_accuracy,
                                  per_class_accuracy)

__all__ = ['MeanClassAccuracy', 'mean_class_accuracy', 'per_class_accuracy']
