"""CachedLoadImageFromFile: the same arrays as MMCV's loader, each file
decoded once per process while it is unchanged."""
import os

import mmcv
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile

from dctkd_mm.datasets import CachedLoadImageFromFile
from dctkd_mm.datasets import cached_loading


@pytest.fixture(autouse=True)
def empty_cache():
    cached_loading.clear_image_cache()
    yield
    cached_loading.clear_image_cache()


@pytest.fixture
def decodes(monkeypatch):
    """Counts the decodes the loader really does (the real decoder runs)."""
    calls = []
    real = mmcv.imfrombytes

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mmcv, 'imfrombytes', counting)
    return calls


def _image(path, seed, size=(12, 10)):
    rng = np.random.default_rng(seed)
    mmcv.imwrite(rng.integers(0, 256, (*size, 3), dtype=np.uint8), path)
    return path


@pytest.mark.parametrize('ext', ['png', 'jpg'])
def test_same_image_as_mmcv_decoded_once(tmp_path, decodes, ext):
    path = _image(str(tmp_path / f'a.{ext}'), 0)
    expected = LoadImageFromFile()(dict(img_path=path))
    decodes.clear()
    loader = CachedLoadImageFromFile()
    for _ in range(3):
        out = loader(dict(img_path=path))
        np.testing.assert_array_equal(out['img'], expected['img'])
        assert out['img_shape'] == out['ori_shape'] == (12, 10)
    assert len(decodes) == 1
    # Another instance (the val pipeline, the next run) shares the cache.
    CachedLoadImageFromFile()(dict(img_path=path))
    assert len(decodes) == 1


def test_a_transform_writing_into_the_image_changes_no_later_load(tmp_path):
    path = _image(str(tmp_path / 'a.png'), 0)
    loader = CachedLoadImageFromFile()
    first = loader(dict(img_path=path))['img']
    original = first.copy()
    first[:] = 0
    np.testing.assert_array_equal(loader(dict(img_path=path))['img'],
                                  original)


def test_a_rewritten_file_is_decoded_again(tmp_path, decodes):
    path = _image(str(tmp_path / 'a.png'), 0)
    loader = CachedLoadImageFromFile()
    old = loader(dict(img_path=path))['img']
    _image(path, 1)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    new = loader(dict(img_path=path))['img']
    assert len(decodes) == 2 and not np.array_equal(old, new)
    np.testing.assert_array_equal(
        new, LoadImageFromFile()(dict(img_path=path))['img'])


def test_decode_settings_are_part_of_the_key(tmp_path):
    path = _image(str(tmp_path / 'a.png'), 0)
    color = CachedLoadImageFromFile()(dict(img_path=path))['img']
    gray = CachedLoadImageFromFile(color_type='grayscale')(
        dict(img_path=path))['img']
    as_float = CachedLoadImageFromFile(to_float32=True)(
        dict(img_path=path))['img']
    assert color.shape == (12, 10, 3) and gray.shape == (12, 10)
    assert as_float.dtype == np.float32 and color.dtype == np.uint8


def test_a_full_cache_decodes_as_without_it(tmp_path, decodes):
    path = _image(str(tmp_path / 'a.png'), 0)
    loader = CachedLoadImageFromFile(max_cache_mb=0)
    for _ in range(2):
        loader(dict(img_path=path))
    assert len(decodes) == 2


def test_storage_backends_are_not_cached(tmp_path, decodes):
    path = _image(str(tmp_path / 'a.png'), 0)
    loader = CachedLoadImageFromFile(backend_args=dict(backend='local'))
    for _ in range(2):
        loader(dict(img_path=path))
    assert len(decodes) == 2


def test_decoded_input_passes_through_and_missing_files_fail(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    assert CachedLoadImageFromFile()(dict(img=img))['img'] is img
    with pytest.raises(FileNotFoundError):
        CachedLoadImageFromFile()(dict(img_path=str(tmp_path / 'no.png')))


@pytest.mark.parametrize('bad', [-1, 1.5, '64'])
def test_bad_cache_size_names_the_option(bad):
    with pytest.raises(ValueError, match='max_cache_mb'):
        CachedLoadImageFromFile(max_cache_mb=bad)
