from .ade20k_scene import ADE20KScene
from .authors_crd_dataset import AuthorsCRDDataset  # noqa: F401
from .cached_loading import CachedLoadImageFromFile
from .checked_loading import CheckedLoadImageFromFile, CorruptImageError
from .mit_indoor67 import MITIndoor67
from .places365 import Places365
from .safe_cifar import SafeCIFAR10, SafeCIFAR100
from .scene_dataset import SceneDataset

__all__ = [
    'Places365', 'ADE20KScene', 'MITIndoor67', 'CachedLoadImageFromFile',
    'CheckedLoadImageFromFile',
    'CorruptImageError', 'SafeCIFAR10', 'SafeCIFAR100', 'SceneDataset'
]
