"""``LoadImageFromFile`` that keeps decoded local images in memory.

For a dataset small enough to hold decoded (the demo's synthetic scenes:
about 6,500 images of 40x40 px, 31 MB), reading and decoding every image
again each epoch costs more than a dictionary lookup and a copy: 0.028
against 0.004 ms per image already in the page cache
(``docs/performance.md``).
"""
import os
from typing import Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmpretrain.registry import TRANSFORMS

#: Decoded images of this process, keyed by file identity and decode
#: settings; shared by every pipeline (train and val, and successive runs
#: in one worker process).
_CACHE: Dict[tuple, np.ndarray] = {}
_CACHED_BYTES = [0]


def clear_image_cache() -> None:
    """Forget every decoded image of this process."""
    _CACHE.clear()
    _CACHED_BYTES[0] = 0


@TRANSFORMS.register_module()
class CachedLoadImageFromFile(LoadImageFromFile):
    """MMCV's ``LoadImageFromFile`` with a per-process cache of decoded
    local images.

    A file is identified by its path, size and modification time, so an
    image rewritten on disk is decoded again. Each result gets its own
    copy of the cached array: a transform that writes into it cannot
    change what the next epoch reads. Files behind a storage backend
    (``backend_args`` or ``file_client_args``) are not cached. Once the
    cache holds ``max_cache_mb`` megabytes, further images are decoded
    every time as without it.

    Args:
        max_cache_mb (int): Memory the process's cache may hold, shared by
            every instance. Defaults to 512.
        **kwargs: ``LoadImageFromFile``'s arguments.
    """

    def __init__(self, max_cache_mb: int = 512, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_cache_mb, int) or max_cache_mb < 0:
            raise ValueError('CachedLoadImageFromFile: max_cache_mb must be '
                             f'an int >= 0, got {max_cache_mb!r}')
        self.max_cache_bytes = max_cache_mb * 2**20

    def _key(self, filename) -> Optional[Tuple]:
        if (self.backend_args is not None
                or self.file_client_args is not None
                or not isinstance(filename, str)):
            return None
        try:
            stat = os.stat(filename)
        except OSError:
            return None  # the loader itself reports the missing file
        return (filename, stat.st_size, stat.st_mtime_ns, self.color_type,
                self.imdecode_backend, self.to_float32)

    def transform(self, results: dict) -> Optional[dict]:
        if 'img_path' not in results and 'img' in results:
            # Decoded already: MMPretrain's ImageClassificationInferencer
            # strips only a transform named ``LoadImageFromFile``.
            return results
        key = self._key(results.get('img_path'))
        img = _CACHE.get(key) if key is not None else None
        if img is None:
            results = super().transform(results)
            if (results is not None and key is not None and
                    _CACHED_BYTES[0] + results['img'].nbytes <=
                    self.max_cache_bytes):
                _CACHE[key] = results['img'].copy()
                _CACHED_BYTES[0] += results['img'].nbytes
            return results
        img = img.copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] +
                f', max_cache_mb={self.max_cache_bytes // 2**20})')
