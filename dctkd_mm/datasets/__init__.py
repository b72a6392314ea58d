from .ade20k_scene import ADE20KScene
from .checked_loading import CheckedLoadImageFromFile, CorruptImageError
from .mit_indoor67 import MITIndoor67
from .places365 import Places365
from .safe_cifar import SafeCIFAR10, SafeCIFAR100

__all__ = [
    'Places365', 'ADE20KScene', 'MITIndoor67', 'CheckedLoadImageFromFile',
    'CorruptImageError', 'SafeCIFAR10', 'SafeCIFAR100'
]
