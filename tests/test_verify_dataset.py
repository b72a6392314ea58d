"""tools/dataset_converters/verify_dataset.py (dctkd_mm.apis.verify_dataset)
on a tiny MIT Indoor 67 tree with one truncated image."""
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
