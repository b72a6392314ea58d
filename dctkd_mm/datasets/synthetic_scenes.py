"""A synthetic scene-recognition dataset whose classes are arrangements.

Scene recognition is hard because a scene is defined by *which* objects
occur *where* and *next to what*, not by any one object: a kitchen and a
dining room share tables and chairs. This generator makes small images
with that property, so the whole pipeline (``Places365`` reader, MMPretrain
transforms, distillation) can be run end to end in minutes on a CPU.

Every image holds each of ``num_object_types`` objects exactly once on a
noisy background. Three of them form the scene's *composition*: they
touch each other in a fixed arrangement (a row, a column, an L, a
diagonal); the others are *distractors*, scattered apart from everything.
A class is one composition: an ordered triple of object types placed in
one arrangement. Classes share triples (same objects, other arrangement)
and arrangements (same shape, other objects), and every object type has
a colour and a shape that other types share, so neither the colours, the
shapes nor the set of objects in an image tells the class: only which
objects touch, and how, does.

Images are written as PNG files in the Places365-Standard layout (see
:class:`dctkd_mm.datasets.Places365`), so the real reader loads them::

    categories_places365.txt    /r/row_rdisc_bsquare_ytriangle 0
    places365_train_standard.txt  /r/row_rdisc_bsquare_ytriangle/00000001.png 0
    places365_val.txt           Places365_val_00000001.png 0
    data_256/r/<class>/00000001.png, val_256/Places365_val_00000001.png

Everything is a pure function of the arguments, ``seed`` included, so the
same call writes byte-identical files.
"""
import itertools
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

#: Object colours (RGB). Saturated, so they stand out from the muted
#: background; :func:`object_types` gives each to about two types.
COLOURS = {
    'r': (220, 40, 40),
    'b': (40, 80, 230),
    'y': (235, 210, 40),
    'g': (40, 190, 70),
    'm': (200, 50, 200),
}
SHAPES = ('disc', 'square', 'triangle', 'ring', 'cross')

#: Arrangements: positions of the composition's three objects, in object
#: cells (column, row). The order of the triple matters: ``row`` is "A
#: left of B left of C", ``ell`` "A left of B, C below B".
ARRANGEMENTS = {
    'row': ((0, 0), (1, 0), (2, 0)),
    'column': ((0, 0), (0, 1), (0, 2)),
    'ell': ((0, 0), (1, 0), (1, 1)),
    'diagonal': ((0, 0), (1, 1), (2, 2)),
}


def object_types(num: int) -> List[Tuple[str, str]]:
    """``num`` distinct (colour, shape) object types.

    ``k`` colours and ``k`` shapes, ``k = ceil(num / 2)`` (at most 5), are
    combined in a Latin-square order (type ``i`` has colour ``i mod k`` and
    shape ``(i + i // k) mod k``), so every colour and every shape belongs
    to about two types and neither alone names an object.
    """
    k = min(len(COLOURS), len(SHAPES), max(2, -(-num // 2)))
    if not 3 <= num <= k * k:
        raise ValueError(f'num_object_types must be in [3, '
                         f'{len(COLOURS) * len(SHAPES)}], got {num}')
    colours = list(COLOURS)[:k]
    shapes = SHAPES[:k]
    return [(colours[i % k], shapes[(i + i // k) % k]) for i in range(num)]


def type_name(obj: Tuple[str, str]) -> str:
    return f'{obj[0]}{obj[1]}'


def scene_classes(num_classes: int, num_object_types: int,
                  seed: int) -> List[Tuple[str, Tuple[int, int, int]]]:
    """The classes: ``(arrangement, (type_a, type_b, type_c))`` each.

    Class ``c`` uses arrangement ``c mod 4`` and triple ``c // 4``, so each
    triple appears in up to four arrangements and each arrangement with
    several triples. Triples are distinct *sets* of object types, drawn
    from ``seed``.
    """
    names = list(ARRANGEMENTS)
    num_triples = -(-num_classes // len(names))
    sets = list(itertools.combinations(range(num_object_types), 3))
    if num_triples > len(sets):
        raise ValueError(f'{num_classes} classes need {num_triples} object '
                         f'triples but {num_object_types} object types give '
                         f'only {len(sets)}; raise num_object_types.')
    rng = np.random.default_rng([seed, 0])
    chosen = rng.permutation(len(sets))[:num_triples]
    triples = [tuple(rng.permutation(sets[i]).tolist()) for i in chosen]
    return [(names[c % len(names)], triples[c // len(names)])
            for c in range(num_classes)]


def class_name(arrangement: str, triple: Sequence[int],
               types: Sequence[Tuple[str, str]]) -> str:
    return '_'.join([arrangement] + [type_name(types[t]) for t in triple])


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A muted two-colour gradient plus pixel noise (float, HxWx3)."""
    low, high = rng.uniform(60, 150, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = (t - t.min()) / max(np.ptp(t), 1e-6)
    img = low + t[..., None] * (high - low)
    return img + rng.normal(0, 8, size=img.shape)


def _draw_object(draw: ImageDraw.ImageDraw, shape: str, colour, box) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if shape == 'disc':
        draw.ellipse(box, fill=colour)
    elif shape == 'square':
        draw.rectangle(box, fill=colour)
    elif shape == 'triangle':
        draw.polygon([(x0 + w / 2, y0), (x1, y1), (x0, y1)], fill=colour)
    elif shape == 'ring':
        draw.ellipse(box, outline=colour, width=max(2, round(w / 4)))
    elif shape == 'cross':
        t = max(2, round(w / 3))
        draw.rectangle((x0 + (w - t) / 2, y0, x0 + (w + t) / 2, y1),
                       fill=colour)
        draw.rectangle((x0, y0 + (h - t) / 2, x1, y0 + (h + t) / 2),
                       fill=colour)
    else:
        raise ValueError(f'unknown shape {shape!r}')


def _overlaps(box, boxes, gap: float) -> bool:
    return any(box[0] < b[2] + gap and b[0] < box[2] + gap and
               box[1] < b[3] + gap and b[1] < box[3] + gap for b in boxes)


def object_size(image_size: int) -> int:
    """Side of an object, in pixels."""
    return max(5, round(image_size * 0.15))


def cell_size(image_size: int) -> int:
    """Step between neighbouring objects of a composition: one object plus
    a pixel or so, so they almost touch."""
    return object_size(image_size) + max(1, round(image_size / 48))


def render_scene(rng: np.random.Generator, size: int, arrangement: str,
                 triple: Sequence[int],
                 types: Sequence[Tuple[str, str]]) -> np.ndarray:
    """One ``size x size`` RGB uint8 image of a class."""
    obj, cell = object_size(size), cell_size(size)
    gap = max(3, round(size / 10))  # distractors keep this clear
    for _ in range(100):  # rejection sampling of a layout that fits
        boxes, kinds = [], []
        cells = ARRANGEMENTS[arrangement]
        span = [max(c[i] for c in cells) * cell + obj for i in (0, 1)]
        ox = rng.integers(0, size - span[0] + 1)
        oy = rng.integers(0, size - span[1] + 1)
        for (cx, cy), t in zip(cells, triple):
            s = obj + rng.integers(-1, 2)  # small size jitter
            x, y = ox + cx * cell, oy + cy * cell
            boxes.append((x, y, x + s, y + s))
            kinds.append(t)
        fitted = True
        others = [t for t in range(len(types)) if t not in triple]
        for t in rng.permutation(others):
            for _ in range(50):
                s = obj + rng.integers(-1, 2)
                x, y = rng.integers(0, size - s + 1, size=2)
                box = (x, y, x + s, y + s)
                if not _overlaps(box, boxes, gap):
                    boxes.append(box)
                    kinds.append(int(t))
                    break
            else:
                fitted = False
                break
        if fitted:
            break
    else:
        raise RuntimeError(f'image_size {size} is too small for '
                           f'{len(types)} objects; raise it or use fewer '
                           'object types.')
    canvas = Image.fromarray(
        np.clip(_background(rng, size), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for box, t in zip(boxes, kinds):
        colour, shape = types[t]
        # Brightness jitter keeps colours recognisable but not constant.
        tint = tuple(int(np.clip(v * rng.uniform(0.85, 1.1), 0, 255))
                     for v in COLOURS[colour])
        _draw_object(draw, shape, tint, tuple(float(v) for v in box))
    return np.asarray(canvas)


def scene_images(num_classes: int, per_class: int, image_size: int,
                 stream: int, num_object_types: int = 6,
                 seed: int = 0) -> List[np.ndarray]:
    """``per_class`` RGB uint8 images of each class (class by class), drawn
    in memory from generator stream ``stream`` (the dataset's training
    images use stream 1 and its validation images stream 2): the classes
    of :func:`generate_synthetic_scenes` with the same ``seed``, at any
    ``image_size``."""
    types = object_types(num_object_types)
    images = []
    for label, (arrangement, triple) in enumerate(
            scene_classes(num_classes, num_object_types, seed)):
        rng = np.random.default_rng([seed, stream, label])
        images += [render_scene(rng, image_size, arrangement, triple, types)
                   for _ in range(per_class)]
    return images


def generate_synthetic_scenes(root: str,
                              num_classes: int = 16,
                              train_per_class: int = 50,
                              val_per_class: int = 25,
                              image_size: int = 64,
                              num_object_types: int = 6,
                              seed: int = 0) -> Dict[str, object]:
    """Write the dataset under ``root`` and return a summary dict.

    Args:
        root (str): Output directory (created; existing files with the
            same names are overwritten).
        num_classes (int): Number of scene classes.
        train_per_class (int): Training images per class.
        val_per_class (int): Validation images per class.
        image_size (int): Side of the square images, in pixels.
        num_object_types (int): Objects per image (three form the
            composition, the rest are distractors).
        seed (int): Seed of the class definitions and of every image.

    Returns:
        dict: ``classes`` (names, by index), ``num_train``, ``num_val``,
        ``root``.
    """
    if num_classes < 2:
        raise ValueError(f'num_classes must be >= 2, got {num_classes}')
    types = object_types(num_object_types)
    classes = scene_classes(num_classes, num_object_types, seed)
    names = [class_name(a, t, types) for a, t in classes]
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'categories_places365.txt'), 'w') as f:
        f.writelines(f'/{n[0]}/{n} {i}\n' for i, n in enumerate(names))

    train_lines, val_lines = [], []
    for label, (arrangement, triple) in enumerate(classes):
        class_dir = osp.join(root, 'data_256', names[label][0], names[label])
        os.makedirs(class_dir, exist_ok=True)
        # One stream per (class, split): changing one count leaves the
        # other split's images unchanged.
        rng = np.random.default_rng([seed, 1, label])
        for k in range(1, train_per_class + 1):
            img = render_scene(rng, image_size, arrangement, triple, types)
            file = f'{k:08d}.png'
            Image.fromarray(img).save(osp.join(class_dir, file))
            train_lines.append(f'/{names[label][0]}/{names[label]}/{file} '
                               f'{label}\n')
    val_dir = osp.join(root, 'val_256')
    os.makedirs(val_dir, exist_ok=True)
    # Val images are numbered class by class; as in Places365, the file
    # name does not name the class.
    for label, (arrangement, triple) in enumerate(classes):
        rng = np.random.default_rng([seed, 2, label])
        for _ in range(val_per_class):
            img = render_scene(rng, image_size, arrangement, triple, types)
            file = f'Places365_val_{len(val_lines) + 1:08d}.png'
            Image.fromarray(img).save(osp.join(val_dir, file))
            val_lines.append(f'{file} {label}\n')
    with open(osp.join(root, 'places365_train_standard.txt'), 'w') as f:
        f.writelines(train_lines)
    with open(osp.join(root, 'places365_val.txt'), 'w') as f:
        f.writelines(val_lines)
    return dict(root=root, classes=names, num_train=len(train_lines),
                num_val=len(val_lines))
