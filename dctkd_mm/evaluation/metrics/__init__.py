from .mean_class_accuracy import MeanClassAccuracy

__all__ = ['MeanClassAccuracy']
