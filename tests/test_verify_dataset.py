"""tools/dataset_converters/verify_dataset.py (dctkd_mm.apis.verify_dataset)
on a tiny MIT Indoor 67 tree with one truncated image."""
import os
import os.path as osp

from dctkd_mm.apis import verify_dataset as tool
from test_datasets import REPO, make_mit67


def test_verify_dataset_tool_reports_truncated_image(tmp_path, capsys):
    root = make_mit67(tmp_path / 'mit67')
    config = osp.join(REPO, 'configs/_base_/datasets/mit67_bs128.py')
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
    config = osp.join(REPO, 'configs/_base_/datasets/places365_bs128.py')
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


def test_verify_dataset_prints_a_split_it_cannot_list(tmp_path, capsys):
    """A dataset that cannot skip its existence check (MIT Indoor 67) still
    ends with its own message and exit status 1, not a traceback."""
    root = make_mit67(tmp_path / 'mit67')
    os.remove(root / 'Images/kitchen/int475.jpg')
    config = osp.join(REPO, 'configs/_base_/datasets/mit67_bs128.py')
    assert tool.main([config, '--cfg-options',
                      f'val_dataloader.dataset.data_root={root}']) == 1
    printed = capsys.readouterr().out
    assert printed.startswith('cannot list the val split: ')
    assert 'int475.jpg' in printed
