"""The demo's data: one synthetic pool for the teacher, a subset of it for
the students.

The paper's teachers know more than the students' training set can teach
(ImageNet-pretrained, then fine-tuned), while its students learn from the
target set alone. The demo mimics that: the teacher trains on
``teacher_train_per_class`` images per class, the students on the first
``train_per_class`` of them. The generator draws each class's training
images from one stream, so the students' images are exactly the first ones
of the teacher's pool, and both share one validation set.

Layout under ``data_dir``: ``pool/`` (the generated dataset, the teacher's
``data_root``) and ``students/`` (links to the pool's images and
validation list, and a training list holding the first
``train_per_class`` images of each class).
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, Tuple

TRAIN_LIST = 'places365_train_standard.txt'
#: What ``students/`` takes from ``pool/`` unchanged.
SHARED = ('categories_places365.txt', 'places365_val.txt', 'data_256',
          'val_256')


def pool_size(settings: dict) -> int:
    """Training images per class of the teacher's pool (never fewer than
    the students')."""
    return max(settings['train_per_class'],
               settings.get('teacher_train_per_class') or 0)


def _stamped(root: str, wanted: dict) -> bool:
    stamp = osp.join(root, 'settings.json')
    if not osp.isfile(stamp):
        return False
    with open(stamp) as f:
        return json.load(f) == wanted


def _write_stamp(root: str, wanted: dict) -> None:
    with open(osp.join(root, 'settings.json'), 'w') as f:
        json.dump(wanted, f)


def prepare_data(settings: dict, data_dir: str) -> Tuple[str, str, Dict]:
    """Write (or reuse, when the settings match) the pool and the students'
    view of it. Returns ``(student_root, teacher_root, counts)``."""
    from dctkd_mm.datasets.synthetic_scenes import generate_synthetic_scenes
    pool, students = osp.join(data_dir, 'pool'), osp.join(data_dir,
                                                          'students')
    wanted = dict(num_classes=settings['num_classes'],
                  train_per_class=pool_size(settings),
                  val_per_class=settings['val_per_class'],
                  image_size=settings['image_size'], seed=0)
    if _stamped(pool, wanted):
        print(f'[data] reusing {pool} (same settings)', flush=True)
    else:
        # A dataset of other settings (or of the single-directory layout
        # of earlier versions) would leave stale images behind.
        if osp.isdir(data_dir):
            shutil.rmtree(data_dir)
        print(f'[data] writing synthetic scenes to {pool}', flush=True)
        generate_synthetic_scenes(pool, **wanted)
        _write_stamp(pool, wanted)
    subset = dict(wanted, train_per_class=settings['train_per_class'])
    if not _stamped(students, subset):
        if osp.isdir(students):
            shutil.rmtree(students)
        os.makedirs(students)
        for name in SHARED:
            os.symlink(osp.join('..', 'pool', name),
                       osp.join(students, name))
        _write_train_subset(osp.join(pool, TRAIN_LIST),
                            osp.join(students, TRAIN_LIST),
                            settings['train_per_class'])
        _write_stamp(students, subset)
    counts = dict(subset, num_train=subset['num_classes'] *
                  subset['train_per_class'],
                  num_val=subset['num_classes'] * subset['val_per_class'],
                  num_teacher_train=wanted['num_classes'] *
                  wanted['train_per_class'])
    return students, pool, counts


def _write_train_subset(source: str, target: str, per_class: int) -> None:
    """The first ``per_class`` lines of each class of a training list."""
    seen: Dict[str, int] = {}
    with open(source) as f, open(target, 'w') as out:
        for line in f:
            label = line.split()[-1]
            seen[label] = seen.get(label, 0) + 1
            if seen[label] <= per_class:
                out.write(line)
