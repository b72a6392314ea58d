"""Scene datasets read tiny trees in each official layout (docs/datasets.md).

Every error case checks that the message names the file and, for a bad
line, ``file:line``.
"""
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.datasets import SUN397
from mmpretrain.registry import DATASETS
from utils import (CATEGORIES, MIT_TEST, MIT_TRAIN, REPO_ROOT, SCENES, TRAIN,
                   VAL, make_ade20k, make_mit67, make_places365)
from utils import write_tree_file as write

import dctkd_mm  # noqa: F401  (registers the datasets)
from dctkd_mm.datasets import ADE20KScene, MITIndoor67, Places365

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def labels_of(dataset):
    return [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]


def assert_pipeline_labels(dataset):
    """``dataset[i]`` through a real pipeline carries the listed label."""
    for i in range(len(dataset)):
        packed = dataset[i]
        assert tuple(packed['inputs'].shape) == (3, 10, 12)
        assert packed['data_samples'].gt_label.tolist() == [
            dataset.get_data_info(i)['gt_label']
        ]


# ---------------------------------------------------------------- Places365
@pytest.mark.parametrize('size', ['256', 'large'])
def test_places365_reads_official_layout(tmp_path, size):
    root = make_places365(tmp_path, sizes=(size, ))
    train = Places365(str(root), 'train', pipeline=PIPELINE)
    val = Places365(str(root), split='val', pipeline=PIPELINE)
    assert train.CLASSES == ('airfield', 'apartment_building/outdoor',
                             'bus_interior')
    assert val.CLASSES == train.CLASSES
    assert (len(train), len(val)) == (4, 3)
    assert labels_of(train) == [0, 0, 1, 2]
    assert labels_of(val) == [2, 0, 1]
    assert train.image_size == val.image_size == size
    assert train.get_data_info(2)['img_path'] == osp.join(
        str(root), f'data_{size}', 'a/apartment_building/outdoor/00000001.jpg')
    assert val.load_data_list()[0]['img_path'] == osp.join(
        str(root), f'val_{size}', 'Places365_val_00000001.jpg')
    assert not train.test_mode and val.test_mode
    assert_pipeline_labels(train)
    assert_pipeline_labels(val)


def test_places365_image_size_choice(tmp_path):
    root = make_places365(tmp_path, sizes=('256', 'large'))
    assert Places365(str(root), lazy_init=True).image_size == '256'
    large = Places365(str(root), image_size='large')
    assert large.img_prefix == osp.join(str(root), 'data_large')
    assert Places365(str(root), image_size=256).image_size == '256'
    with pytest.raises(ValueError, match='image_size'):
        Places365(str(root), image_size='512')
    only_256 = make_places365(tmp_path / 'only_256')
    with pytest.raises(FileNotFoundError, match="'.*only_256/val_large'"):
        Places365(str(only_256), split='val', image_size='large')


def test_places365_without_images_names_expected_dirs(tmp_path):
    root = make_places365(tmp_path, sizes=())
    with pytest.raises(FileNotFoundError, match='data_256/.*data_large/'):
        Places365(str(root))
    with pytest.raises(FileNotFoundError, match='val_256/.*val_large/'):
        Places365(str(root), split='val')


def test_places365_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        Places365(str(tmp_path / 'nowhere'))
    assert 'nowhere' in str(err.value)
    assert 'categories_places365.txt' in str(err.value)
    assert 'docs/datasets.md' in str(err.value)
    root = make_places365(tmp_path)
    os.remove(root / 'places365_val.txt')
    with pytest.raises(FileNotFoundError, match='places365_val.txt'):
        Places365(str(root), split='val')
    os.remove(root / 'categories_places365.txt')
    with pytest.raises(FileNotFoundError, match='categories_places365.txt'):
        Places365(str(root))


@pytest.mark.parametrize('file, bad_line, message', [
    ('places365_train_standard.txt', '/a/airfield/00000003.jpg',
     'malformed line .*places365_train_standard.txt:3: .* expected'),
    ('places365_train_standard.txt', '/a/airfield/00000001.jpg 3',
     r'class index 3 at .*places365_train_standard.txt:3 is not in'),
    ('places365_train_standard.txt', '/a/airfield/00000001.jpg x',
     r'places365_train_standard.txt:3: class index .x. is not an integer'),
    ('places365_val.txt', 'Places365_val_00000001.jpg -1',
     r'class index -1 at .*places365_val.txt:3 is not in'),
    ('categories_places365.txt', 'airfield 2',
     r'malformed line .*categories_places365.txt:3: .* expected'),
    ('categories_places365.txt', '/b/bus_interior 0',
     r'class index 0 at .*categories_places365.txt:3 was already given'),
    ('categories_places365.txt', '/b/bus_interior 3',
     r'class index 3 at .*categories_places365.txt:3 is not in'),
])
def test_places365_bad_lines_name_file_and_line(tmp_path, file, bad_line,
                                                 message):
    root = make_places365(tmp_path)
    lines = (root / file).read_text().splitlines()
    lines[2] = bad_line
    write(root / file, '\n'.join(lines) + '\n')
    with pytest.raises(ValueError, match=message):
        Places365(str(root), 'val' if 'val' in file else 'train')


def test_places365_missing_image_names_image_and_line(tmp_path):
    root = make_places365(tmp_path)
    os.remove(root / 'data_256/b/bus_interior/00000001.jpg')
    with pytest.raises(FileNotFoundError) as err:
        Places365(str(root))
    assert 'data_256/b/bus_interior/00000001.jpg' in str(err.value)
    assert 'places365_train_standard.txt:4' in str(err.value)
    # Unchecked, the list still has the sample; loading it then fails.
    assert len(Places365(str(root), check_images=False)) == 4


# ------------------------------------------------------------------ ADE20K
def test_ade20k_reads_official_layout(tmp_path):
    root = make_ade20k(tmp_path / 'ADEChallengeData2016')
    train = ADE20KScene(str(root), pipeline=PIPELINE)
    val = ADE20KScene(str(root), split='val', pipeline=PIPELINE)
    assert train.CLASSES == val.CLASSES == ('abbey', 'airport_terminal',
                                            'bathroom')
    assert (len(train), len(val)) == (3, 2)
    assert labels_of(train) == [1, 2, 1]
    assert labels_of(val) == [2, 0]
    assert val.get_data_info(1)['img_path'] == osp.join(
        str(root), 'images', 'validation', 'ADE_val_00000002.jpg')
    assert_pipeline_labels(train)
    assert_pipeline_labels(val)


@pytest.mark.parametrize('bad_line, message', [
    ('ADE_train_00000002', r'malformed line .*sceneCategories.txt:2: .*'
     'expected "ADE_<train|val>_<number> <scene category>"'),
    ('ADE_test_00000002 bathroom', r'malformed line .*sceneCategories.txt:2'),
    ('ADE_train_00000001 bathroom',
     r'ADE_train_00000001.* at .*sceneCategories.txt:2 was already listed'),
])
def test_ade20k_bad_lines_name_file_and_line(tmp_path, bad_line, message):
    root = make_ade20k(tmp_path)
    lines = SCENES.split('\n')
    lines[1] = bad_line
    write(root / 'sceneCategories.txt', '\n'.join(lines))
    with pytest.raises(ValueError, match=message):
        ADE20KScene(str(root))


def test_ade20k_missing_files_and_images(tmp_path):
    with pytest.raises(FileNotFoundError, match='sceneCategories.txt'):
        ADE20KScene(str(tmp_path / 'ADEChallengeData2016'))
    root = make_ade20k(tmp_path)
    os.remove(root / 'images/validation/ADE_val_00000002.jpg')
    with pytest.raises(FileNotFoundError) as err:
        ADE20KScene(str(root), split='val')
    assert 'images/validation/ADE_val_00000002.jpg' in str(err.value)
    assert 'sceneCategories.txt:5' in str(err.value)
    assert len(ADE20KScene(str(root), split='train')) == 3
    os.remove(root / 'sceneCategories.txt')
    with pytest.raises(FileNotFoundError) as err:
        ADE20KScene(str(root))
    assert osp.join(str(root), 'sceneCategories.txt') in str(err.value)
    assert 'docs/datasets.md' in str(err.value)


def test_ade20k_category_outside_class_list(tmp_path):
    # The class list is read at construction; a lazily loaded list that
    # meets a category it lacks must say where.
    root = make_ade20k(tmp_path)
    dataset = ADE20KScene(str(root), lazy_init=True)
    write(root / 'sceneCategories.txt', SCENES.replace('bathroom', 'attic'))
    with pytest.raises(ValueError,
                       match=r"'attic' at .*sceneCategories.txt:2 is not"):
        dataset.full_init()


# --------------------------------------------------------------- MIT Indoor
def test_mit67_reads_official_layout(tmp_path):
    root = make_mit67(tmp_path)
    train = MITIndoor67(str(root), pipeline=PIPELINE)
    test = MITIndoor67(str(root), split='test', pipeline=PIPELINE)
    assert train.CLASSES == test.CLASSES == ('airport_inside', 'gameroom',
                                             'kitchen')
    assert (len(train), len(test)) == (3, 2)
    assert labels_of(train) == [1, 2, 0]
    assert labels_of(test) == [2, 1]
    assert train.get_data_info(2)['img_path'] == osp.join(
        str(root), 'Images', 'airport_inside', 'airport inside 0001.jpg')
    assert test.test_mode
    assert_pipeline_labels(train)
    assert_pipeline_labels(test)


def test_mit67_errors_name_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.*TrainImages.txt'):
        MITIndoor67(str(tmp_path / 'nowhere'))
    root = make_mit67(tmp_path)
    write(root / 'TestImages.txt', MIT_TEST + 'bakery/b1.jpg\n')
    with pytest.raises(ValueError, match=r"'bakery' at .*TestImages.txt:3"):
        MITIndoor67(str(root), split='test')
    write(root / 'TestImages.txt', MIT_TEST + 'kitchen.jpg\n')
    with pytest.raises(ValueError,
                       match=r'malformed line .*TestImages.txt:3: .*'
                       r'expected "<class>/<image file>"'):
        MITIndoor67(str(root), split='test')
    write(root / 'TestImages.txt', MIT_TEST + 'kitchen/gone.jpg\n')
    with pytest.raises(FileNotFoundError,
                       match=r"Images/kitchen/gone.jpg', listed at "
                       r'.*TestImages.txt:3, does not exist'):
        MITIndoor67(str(root), split='test')
    os.remove(root / 'TrainImages.txt')
    with pytest.raises(FileNotFoundError, match='TrainImages.txt'):
        MITIndoor67(str(root))


def test_mit67_unpacked_on_a_mac_keeps_its_labels(tmp_path):
    """Issue 10 case 6: ``Images/__MACOSX/`` (resource forks) and Finder's
    ``.DS_Store`` files used to become class 0 and shift every label."""
    root = make_mit67(tmp_path)
    for junk in ('__MACOSX/kitchen/._int474.jpg', '.DS_Store',
                 'kitchen/.DS_Store'):
        os.makedirs(osp.dirname(root / 'Images' / junk), exist_ok=True)
        with open(root / 'Images' / junk, 'wb') as f:
            f.write(b'\x00\x05\x16\x07 Mac OS X junk')
    train = MITIndoor67(str(root), pipeline=PIPELINE)
    assert train.CLASSES == ('airport_inside', 'gameroom', 'kitchen')
    assert labels_of(train) == [1, 2, 0]


def test_mit67_stray_directory_is_refused_by_name(tmp_path):
    root = make_mit67(tmp_path)
    os.makedirs(root / 'Images' / 'indoorCVPR_09_copy')
    with pytest.raises(ValueError,
                       match=r"not classes of TrainImages.txt / "
                       r"TestImages.txt: \['indoorCVPR_09_copy'\]"):
        MITIndoor67(str(root))


def test_mit67_classes_come_from_both_split_files(tmp_path):
    """A class listed only in the test file still gets its index in the
    training set, so both splits share indices."""
    root = make_mit67(tmp_path)
    write(root / 'TestImages.txt', MIT_TEST + 'bakery/b1.jpg\n')
    write(root / 'Images' / 'bakery' / 'b1.jpg')
    train = MITIndoor67(str(root), pipeline=PIPELINE)
    assert train.CLASSES == ('airport_inside', 'bakery', 'gameroom',
                             'kitchen')
    assert labels_of(train) == [2, 3, 0]


# ----------------------------------------------------- SUN397 (MMPretrain)
def test_mmpretrain_sun397_reads_official_layout(tmp_path):
    train_files = ['/a/abbey/sun_aaa.jpg', '/a/abbey/sun_aab.jpg',
                   '/a/apartment_building/outdoor/sun_aac.jpg']
    test_files = ['/a/apartment_building/outdoor/sun_aad.jpg']
    write(tmp_path / 'Partitions/ClassName.txt',
          '/a/abbey\n/a/apartment_building/outdoor\n')
    write(tmp_path / 'Partitions/Training_01.txt', '\n'.join(train_files))
    write(tmp_path / 'Partitions/Testing_01.txt', '\n'.join(test_files))
    for name in train_files + test_files:
        write(tmp_path / 'SUN397' / name.lstrip('/'))
    train = SUN397(str(tmp_path), pipeline=PIPELINE)
    test = SUN397(str(tmp_path), split='test', pipeline=PIPELINE)
    assert len(train.CLASSES) == 397
    assert train.CLASSES[8] == 'apartment_building_outdoor'
    assert (labels_of(train), labels_of(test)) == ([0, 0, 8], [8])
    assert_pipeline_labels(train)
    assert_pipeline_labels(test)


# ----------------------------------------------------------------- configs
@pytest.mark.parametrize('config, make, counts', [
    ('places365_bs128.py', make_places365, (4, 3)),
    ('ade20k_scene_bs128.py', make_ade20k, (3, 2)),
    ('mit67_bs128.py', make_mit67, (3, 2)),
])
def test_dataset_configs_build(tmp_path, config, make, counts):
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets', config))
    make(tmp_path)
    built = []
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        built.append(
            DATASETS.build(dict(loader.dataset, data_root=str(tmp_path))))
    assert tuple(len(d) for d in built) == counts
    assert len(built[0].pipeline.transforms) == len(cfg.train_pipeline)


def test_empty_split_file_is_an_error(tmp_path):
    root = make_places365(tmp_path / 'places')
    write(root / 'places365_val.txt', '\n')
    with pytest.raises(ValueError, match='places365_val.txt.* lists no'):
        Places365(str(root), split='val')
    root = make_mit67(tmp_path / 'mit')
    write(root / 'TestImages.txt', '')
    with pytest.raises(ValueError, match='TestImages.txt.* lists no'):
        MITIndoor67(str(root), split='test')
