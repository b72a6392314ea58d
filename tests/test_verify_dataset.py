"""tools/dataset_converters/verify_dataset.py (dctkd_mm.apis.verify_dataset)
on tiny scene trees with truncated and missing images."""
import os
import os.path as osp

import pytest

from dctkd_mm.apis import verify_dataset as tool
from utils import REPO_ROOT, make_ade20k, make_mit67, make_places365


def test_verify_dataset_tool_reports_truncated_image(tmp_path, capsys):
    root = make_mit67(tmp_path / 'mit67')
    config = osp.join(REPO_ROOT, 'configs/_base_/datasets/mit67_bs128.py')
    options = ['--cfg-options', f'val_dataloader.dataset.data_root={root}']
    assert tool.main([config, *options]) == 0
    bad = root / 'Images/kitchen/int475.jpg'
    bad.write_bytes(bad.read_bytes()[:-40])  # cut inside the scan data
    out = tmp_path / 'bad.txt'
    assert tool.main([config, *options, '--out', str(out), '--nproc=2']) == 1
    assert out.read_text() == f'{bad}\n'
    printed = capsys.readouterr().out
    assert 'MITIndoor67 val: 2 images, 3 classes' in printed
    assert '1 classes have no image in this split: airport_inside' in printed
    assert '1 bad images out of 2' in printed


def test_verify_dataset_lists_every_missing_image(tmp_path, capsys):
    """Places365 refuses a missing image when it lists the split; the tool
    turns that off and reports all of them, not the first with a
    traceback (issue 19)."""
    from utils import make_places365_tree
    tree = make_places365_tree(str(tmp_path / 'places365'), num_classes=4,
                               per_class=1, size=16, val_per_class=2)
    missing = sorted(tree['val_files'][1:4:2])  # two, of two classes
    for path in missing:
        os.remove(path)
    config = osp.join(REPO_ROOT, 'configs/_base_/datasets/places365_bs128.py')
    out = tmp_path / 'bad.txt'
    assert tool.main([
        config, '--out', str(out), '--cfg-options',
        f'val_dataloader.dataset.data_root={tree["root"]}'
    ]) == 1
    assert sorted(out.read_text().splitlines()) == missing
    printed = capsys.readouterr().out
    for path in missing:
        assert f'BAD {path}: missing' in printed
    assert '2 bad images out of 8' in printed
    assert 'Traceback' not in printed


@pytest.mark.parametrize('dataset', ['mit67', 'ade20k_scene'])
def test_verify_dataset_lists_every_missing_image_of_mit67_and_ade20k(
        dataset, tmp_path, capsys):
    """MIT Indoor 67 and ADE20K scenes, too, report every missing image,
    not only the first (issue 19)."""
    if dataset == 'mit67':
        root = make_mit67(tmp_path / 'mit67')
        missing = [root / 'Images/kitchen/int475.jpg',
                   root / 'Images/gameroom/bt_1.jpg']
    else:
        root = make_ade20k(tmp_path / 'ade20k')
        missing = [root / f'images/validation/ADE_val_0000000{i}.jpg'
                   for i in (1, 2)]
    for path in missing:
        os.remove(path)
    config = osp.join(REPO_ROOT, f'configs/_base_/datasets/{dataset}_bs128.py')
    out = tmp_path / 'bad.txt'
    assert tool.main([config, '--out', str(out), '--cfg-options',
                      f'val_dataloader.dataset.data_root={root}']) == 1
    assert sorted(out.read_text().splitlines()) == sorted(map(str, missing))
    printed = capsys.readouterr().out
    for path in missing:
        assert f'BAD {path}: missing' in printed
    assert '2 bad images out of 2' in printed
    assert 'Traceback' not in printed


def test_verify_dataset_prints_a_split_it_cannot_list(tmp_path, capsys):
    """A split file the dataset cannot read ends with the dataset's own
    message and exit status 1, not a traceback."""
    root = make_mit67(tmp_path / 'mit67')
    (root / 'TestImages.txt').write_text('kitchen/int475.jpg\nno_slash\n')
    config = osp.join(REPO_ROOT, 'configs/_base_/datasets/mit67_bs128.py')
    assert tool.main([config, '--cfg-options',
                      f'val_dataloader.dataset.data_root={root}']) == 1
    printed = capsys.readouterr().out
    assert printed.startswith('cannot list the val split: ')
    assert 'TestImages.txt' in printed and 'no_slash' in printed


@pytest.mark.parametrize('dataset', ['Places365', 'ADE20KScene',
                                     'MITIndoor67'])
def test_scene_datasets_can_skip_the_image_check(dataset, tmp_path):
    """The three scene datasets share SceneDataset: each refuses a missing
    image by default and lists it with check_images=False."""
    from mmpretrain.registry import DATASETS

    from dctkd_mm.datasets import SceneDataset
    make, split, image = {
        'Places365': (make_places365, 'val',
                      'val_256/Places365_val_00000002.jpg'),
        'ADE20KScene': (make_ade20k, 'val',
                        'images/validation/ADE_val_00000002.jpg'),
        'MITIndoor67': (make_mit67, 'test', 'Images/gameroom/bt_1.jpg'),
    }[dataset]
    root = make(tmp_path / dataset)
    os.remove(root / image)
    cfg = dict(type=dataset, data_root=str(root), split=split)
    assert issubclass(DATASETS.get(dataset), SceneDataset)
    with pytest.raises(FileNotFoundError, match=osp.basename(image)):
        DATASETS.build(cfg)
    listed = DATASETS.build(dict(cfg, check_images=False))
    assert str(root / image) in [
        listed.get_data_info(i)['img_path'] for i in range(len(listed))]
