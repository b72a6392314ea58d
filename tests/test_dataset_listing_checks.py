"""Issue 17 F13: every scene dataset refuses a duplicate line, a path that
leaves its data root, and (Places365) a duplicate class name, naming the
file, the line and what was expected.

The datasets are built from the real configs (``configs/_base_/datasets/``)
over the tiny official-layout trees of ``tests/utils/data_trees.py`` (those of
``tests/test_datasets.py``). The
shared checks live in ``dctkd_mm/datasets/annotation_files.py``
(``check_path``, ``ListedOnce``, used by ``ImageIndex``), so each dataset
gets them from one place.
"""
import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.registry import DATASETS
from utils import (CATEGORIES, MIT_TEST, REPO_ROOT, SCENES, TRAIN, VAL,
                   make_ade20k, make_mit67, make_places365)
from utils import write_tree_file as write

from dctkd_mm.datasets.annotation_files import path_problem

CONFIGS = {
    'places365': ('places365_bs128.py', make_places365),
    'ade20k': ('ade20k_scene_bs128.py', make_ade20k),
    'mit67': ('mit67_bs128.py', make_mit67),
}
# dataset: (split, annotation file, its text, the split's dataloader)
FILES = {
    'places365': ('train', 'places365_train_standard.txt', TRAIN, 'train'),
    'places365-val': ('val', 'places365_val.txt', VAL, 'val'),
    'ade20k': ('train', 'sceneCategories.txt', SCENES, 'train'),
    'mit67': ('test', 'TestImages.txt', MIT_TEST, 'val'),
}


def _build(tmp_path, name, loader='train'):
    """The split of ``name`` as its config builds it, rooted at tmp_path."""
    config, _ = CONFIGS[name.split('-')[0]]
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets', config))
    return DATASETS.build(
        dict(cfg[f'{loader}_dataloader'].dataset, data_root=str(tmp_path)))


def _tree_with(tmp_path, name, line_index, new_line):
    """The dataset's tree with line ``line_index`` (0-based) of its
    annotation file replaced (or appended when it is the line count)."""
    CONFIGS[name.split('-')[0]][1](tmp_path)
    _, file_name, text, loader = FILES[name]
    lines = text.splitlines()
    lines[line_index:line_index + 1] = [new_line]
    write(tmp_path / file_name, '\n'.join(lines) + '\n')
    return file_name, loader


def _first_field(name, line_index):
    text = FILES[name][2]
    line = text.splitlines()[line_index]
    return line if name == 'mit67' else line.split()[0]


@pytest.mark.parametrize('name', list(FILES))
def test_duplicate_line_is_refused(tmp_path, name):
    """Places365 and MIT67 accepted a repeated line: that image was
    trained twice per epoch and counted twice by the metrics."""
    text = FILES[name][2]
    count = len(text.splitlines())
    repeated = text.splitlines()[0]
    file_name, loader = _tree_with(tmp_path, name, count, repeated)
    with pytest.raises(ValueError) as info:
        _build(tmp_path, name, loader)
    message = str(info.value)
    # As the dataset keys it: Places365's leading '/' dropped, ADE20K's
    # image names without '.jpg'.
    shown = _first_field(name, 0).lstrip('/')
    assert f"image '{shown}' at " in message, message
    assert f'{file_name}:{count + 1} was already listed at line 1' in message
    assert 'expected each image once' in message


@pytest.mark.parametrize('name, line_index, bad', [
    ('places365', 1, '/a/airfield/../../../../etc/hostname.jpg 0'),
    ('places365-val', 0, '../data_256/a/airfield/00000001.jpg 2'),
    ('places365-val', 0, './Places365_val_00000001.jpg 2'),
    ('ade20k', 0, 'ADE_train_/../../../../secret airport_terminal'),
    ('mit67', 0, 'kitchen/../../../outside.jpg'),
    ('mit67', 0, '../Images/kitchen/int475.jpg'),
    ('mit67', 0, 'kitchen//int475.jpg'),
    ('mit67', 0, '/etc/hostname'),
], ids=['places365-up', 'places365-val-up', 'places365-val-dot',
        'ade20k-up', 'mit67-up', 'mit67-up-first', 'mit67-empty',
        'mit67-absolute'])
def test_path_leaving_the_data_root_is_refused(tmp_path, name, line_index,
                                               bad):
    file_name, loader = _tree_with(tmp_path, name, line_index, bad)
    with pytest.raises(ValueError) as info:
        _build(tmp_path, name, loader)
    message = str(info.value)
    assert f'{file_name}:{line_index + 1} ' in message, message
    assert 'image path' in message and 'expected a relative path' in message
    assert ("'..' component" in message or 'is absolute' in message
            or "empty or '.' component" in message)


@pytest.mark.parametrize('categories, line, expected', [
    (CATEGORIES + '/b/airfield 3\n', 4, "class name 'airfield'"),
    (CATEGORIES.replace('/b/bus_interior 2', '/a/airfield 2'), 3,
     "class name 'airfield'"),
], ids=['same-name-other-letter', 'same-line'])
def test_places365_duplicate_class_name_is_refused(tmp_path, categories,
                                                   line, expected):
    """Two indices with one name: two labels for one class, and a
    ``classes`` tuple in which ``index()`` finds only the first."""
    make_places365(tmp_path)
    write(tmp_path / 'categories_places365.txt', categories)
    with pytest.raises(ValueError) as info:
        _build(tmp_path, 'places365')
    message = str(info.value)
    assert (f'{expected} at ' in message
            and f'categories_places365.txt:{line} was already listed at '
            'line 1; expected each class name once' in message), message


def test_long_bad_line_is_shown_bounded(tmp_path):
    file_name, loader = _tree_with(tmp_path, 'mit67', 0,
                                   'kitchen/../' + 'x' * 100000)
    with pytest.raises(ValueError) as info:
        _build(tmp_path, 'mit67', loader)
    assert f'{file_name}:1 ' in str(info.value)
    assert len(str(info.value)) < 500


@pytest.mark.parametrize('path, problem', [
    ('a/airfield/00000001.jpg', None),
    ('kitchen/int..474.jpg', None),  # '..' inside a name is a name
    ('kitchen/.hidden.jpg', None),
    ('airport_inside/airport inside 0001.jpg', None),
    ('a/../b.jpg', "'..' component"),
    ('..', "'..' component"),
    ('kitchen\\..\\..\\x.jpg', "'..' component"),
    ('/etc/passwd', 'is absolute'),
    ('C:/Windows/x.jpg', 'is absolute'),
    ('a/./b.jpg', "'.' component"),
    ('a/b/', "'.' component"),
])
def test_path_problem_is_textual(path, problem):
    found = path_problem(path)
    assert (found is None) if problem is None else (problem in found)


def test_official_trees_still_load(tmp_path):
    """The official layouts (tests/test_datasets.py's trees) pass every
    new check, both splits, with their image counts."""
    counts = {}
    for name, make in (('places365', make_places365), ('ade20k',
                                                       make_ade20k),
                       ('mit67', make_mit67)):
        make(tmp_path / name)
        counts[name] = tuple(
            len(_build(tmp_path / name, name, loader))
            for loader in ('train', 'val'))
    assert counts == {'places365': (4, 3), 'ade20k': (3, 2),
                      'mit67': (3, 2)}
