"""The synthetic scene generator: deterministic, readable by the real
Places365 dataset class, and with classes that only object *arrangement*
tells apart."""
import filecmp
import os
import os.path as osp

import numpy as np
import pytest

from dctkd_mm.datasets import Places365
from dctkd_mm.datasets.synthetic_scenes import (ARRANGEMENTS, COLOURS,
                                                cell_size,
                                                generate_synthetic_scenes,
                                                object_types, render_scene,
                                                scene_classes, scene_images)

TINY = dict(num_classes=8, train_per_class=3, val_per_class=2,
            image_size=32)


def _files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def test_same_seed_writes_identical_files(tmp_path):
    a = generate_synthetic_scenes(str(tmp_path / 'a'), seed=3, **TINY)
    b = generate_synthetic_scenes(str(tmp_path / 'b'), seed=3, **TINY)
    assert a['classes'] == b['classes']
    files = _files(tmp_path / 'a')
    assert files == _files(tmp_path / 'b')
    assert len([f for f in files if f.endswith('.png')]) == 8 * (3 + 2)
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert mismatch == [] and errors == []


def test_other_seed_writes_other_images(tmp_path):
    generate_synthetic_scenes(str(tmp_path / 'a'), seed=0, **TINY)
    generate_synthetic_scenes(str(tmp_path / 'b'), seed=1, **TINY)
    val_a = sorted(os.listdir(tmp_path / 'a' / 'val_256'))
    assert val_a == sorted(os.listdir(tmp_path / 'b' / 'val_256'))
    same = [f for f in val_a if filecmp.cmp(
        tmp_path / 'a' / 'val_256' / f, tmp_path / 'b' / 'val_256' / f,
        shallow=False)]
    assert same == []


def test_scene_images_draw_the_datasets_classes_in_memory(tmp_path):
    """Stream 2 in memory is the validation split on disk, pixel for pixel
    (the demo's loss calibration draws its scenes this way, on a stream
    of their own, at any size)."""
    from PIL import Image
    generate_synthetic_scenes(str(tmp_path), seed=0, **TINY)
    with open(tmp_path / 'places365_val.txt') as f:
        files = [line.split()[0] for line in f]
    images = scene_images(8, 2, 32, stream=2)
    assert len(images) == len(files) == 16
    for image, name in zip(images, files):
        with Image.open(tmp_path / 'val_256' / name) as saved:
            assert np.array_equal(np.asarray(saved), image), name
    other = scene_images(8, 2, 32, stream=3)
    assert not any(np.array_equal(a, b) for a, b in zip(images, other))
    assert scene_images(8, 1, 224, stream=3)[0].shape == (224, 224, 3)


def test_places365_reads_the_layout(tmp_path):
    root = str(tmp_path)
    summary = generate_synthetic_scenes(root, seed=0, **TINY)
    train = Places365(root, split='train')
    val = Places365(root, split='val')
    assert train.CLASSES == val.CLASSES == tuple(summary['classes'])
    assert len(train) == summary['num_train'] == 8 * 3
    assert len(val) == summary['num_val'] == 8 * 2
    for dataset, per_class in ((train, 3), (val, 2)):
        labels = [dataset.get_data_info(i)['gt_label']
                  for i in range(len(dataset))]
        assert np.bincount(labels).tolist() == [per_class] * 8
    # The class directory of a training image is its class name.
    info = train.get_data_info(4)
    assert osp.basename(osp.dirname(info['img_path'])) == \
        train.CLASSES[info['gt_label']]
    assert info['img_path'].endswith('.png') and osp.isfile(info['img_path'])


def test_pipeline_loads_images_of_the_requested_size(tmp_path):
    generate_synthetic_scenes(str(tmp_path), seed=0, **TINY)
    dataset = Places365(
        str(tmp_path), split='val',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert sample['data_samples'].gt_label.item() == 0


def test_no_colour_or_shape_names_an_object_type():
    types = object_types(6)
    assert len(set(types)) == 6
    for colour in {c for c, _ in types}:
        assert sum(c == colour for c, _ in types) >= 2
    for shape in {s for _, s in types}:
        assert sum(s == shape for _, s in types) >= 2


def test_classes_share_objects_and_arrangements():
    classes = scene_classes(16, 6, seed=0)
    assert len(set(classes)) == 16
    triples = {t for _, t in classes}
    arrangements = {a for a, _ in classes}
    assert arrangements == set(ARRANGEMENTS)
    # Each object triple appears in every arrangement, each arrangement
    # with every triple: neither alone tells the class.
    for triple in triples:
        assert {a for a, t in classes if t == triple} == arrangements
    assert len(triples) == 4
    assert len({frozenset(t) for t in triples}) == 4


def _make(classes, types, split, per_class, size):
    images, labels = [], []
    for label, (arrangement, triple) in enumerate(classes):
        rng = np.random.default_rng([0, split, label])
        for _ in range(per_class):
            images.append(render_scene(rng, size, arrangement, triple, types))
            labels.append(label)
    return np.stack(images), np.array(labels)


def _palette_index(images):
    """Each pixel's object colour index, or len(COLOURS) for background."""
    palette = np.array(list(COLOURS.values()), float)
    dist = np.linalg.norm(
        images[..., None, :].astype(float) - palette, axis=-1)
    index = dist.argmin(-1)
    index[dist.min(-1) > 60] = len(palette)
    return index


def _colour_histograms(index):
    n = len(COLOURS) + 1
    hists = np.stack([np.bincount(i.ravel(), minlength=n) for i in index])
    return hists / hists.sum(1, keepdims=True)


def _colour_pairs(index, offsets):
    """Histogram of (colour here, colour at +offset) pairs: a feature that
    sees which colours sit next to which, and in which direction."""
    n = len(COLOURS) + 1
    feats = []
    for i in index:
        parts = []
        for dx, dy in offsets:
            here = i[:i.shape[0] - dy, :i.shape[1] - dx]
            there = i[dy:, dx:]
            parts.append(np.bincount((here * n + there).ravel(),
                                     minlength=n * n))
        feats.append(np.concatenate(parts))
    feats = np.stack(feats).astype(float)
    return feats / feats.sum(1, keepdims=True)


def _nearest_class_mean(train_x, train_y, test_x, test_y, k):
    means = np.stack([train_x[train_y == c].mean(0) for c in range(k)])
    pred = ((test_x[:, None] - means)**2).sum(-1).argmin(1)
    return (pred == test_y).mean(), means


def test_colour_does_not_identify_the_class_but_arrangement_does():
    k, size = 8, 48
    types = object_types(6)
    classes = scene_classes(k, 6, seed=0)
    train_x, train_y = _make(classes, types, 1, 40, size)
    test_x, test_y = _make(classes, types, 2, 20, size)
    train_i, test_i = _palette_index(train_x), _palette_index(test_x)

    # Colour: every image holds every object once, so the class means of
    # the colour histograms are nearly equal (closer to each other than a
    # typical image is to its own class mean) and a nearest-class-mean
    # classifier on them is at chance (1/8).
    colour_acc, means = _nearest_class_mean(
        _colour_histograms(train_i), train_y, _colour_histograms(test_i),
        test_y, k)
    spread = np.abs(_colour_histograms(train_i) - means[train_y]).sum(1)
    between = np.abs(means[:, None] - means[None]).sum(-1).max()
    assert between < 0.5 * spread.mean()
    assert colour_acc < 0.25

    # Arrangement: the same classifier on which colour neighbours which,
    # one object step right / down / diagonally, is far above chance.
    step = cell_size(size)
    offsets = [(step, 0), (0, step), (step, step)]
    pair_acc, _ = _nearest_class_mean(
        _colour_pairs(train_i, offsets), train_y,
        _colour_pairs(test_i, offsets), test_y, k)
    assert pair_acc > 0.5


@pytest.mark.parametrize('size', [32, 64])
def test_images_have_the_requested_size_and_every_object(size):
    types = object_types(6)
    (arrangement, triple), = scene_classes(4, 6, seed=0)[:1]
    image = render_scene(np.random.default_rng(0), size, arrangement,
                         triple, types)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    # Every object colour is present (each is used by two object types).
    present = set(np.unique(_palette_index(image[None])))
    assert present >= {list(COLOURS).index(c) for c, _ in types}


def test_bad_arguments_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match='num_classes'):
        generate_synthetic_scenes(str(tmp_path), num_classes=1)
    with pytest.raises(ValueError, match='object triples'):
        scene_classes(200, 6, seed=0)
    with pytest.raises(ValueError, match='num_object_types'):
        object_types(2)
