"""The exported checkpoint of a tiny flagship distiller with adapters: the
student's weights alone, the same logits through ``get_model``, the
``--no-data`` config, and the refusals (missing data, a checkpoint that is
not a distiller's, unsafe pickles, overwriting the export's own inputs)."""
import argparse
import glob
import os.path as osp
import pickle
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import export_student
from dctkd_mm.apis.export_cli import main as export_main
from dctkd_mm.model_converters import OverwriteInputError
from utils import (build_model, make_places365_tree, save_runner_checkpoint,
                   student_logits, write_tiny_distill_config)

pytestmark = pytest.mark.usefixtures('restore_default_scope')


# --- the checkpoint ------------------------------------------------------


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """A tiny flagship distiller with adapters (``distiller.*`` weights),
    its runner-style checkpoint, and the exported student."""
    root = tmp_path_factory.mktemp('export_tiny')
    tree = make_places365_tree(str(root / 'data'))
    cfg_path, ckpt_path = str(root / 'distill.py'), str(root / 'ckpt.pth')
    cfg = Config.fromfile(write_tiny_distill_config(
        cfg_path, tree['root'], adapters=True,
        extra="log_level = 'WARNING'"))
    model = build_model(cfg)
    save_runner_checkpoint(model, ckpt_path, tree['classes'])
    result = export_main([cfg_path, ckpt_path, '--out-dir',
                          str(root / 'out')])
    return dict(root=root, tree=tree, cfg=cfg, ckpt=ckpt_path, model=model,
                result=result)


def test_checkpoint_holds_only_the_student(exported):
    result, model = exported['result'], exported['model']
    assert osp.basename(result['checkpoint']) == 'distill_student.pth'
    ckpt = torch.load(result['checkpoint'])  # safe load, no allowlist needed
    assert set(ckpt) == {'meta', 'state_dict'}  # no optimizer, message hub
    state = ckpt['state_dict']
    student = model.student.state_dict()
    assert set(state) == set(student)
    for key, value in student.items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=0)
    adapters = [k for k in model.state_dict() if k.startswith('distiller.')]
    assert adapters and result['dropped']['distiller'] == len(adapters)
    assert result['dropped']['teacher'] > 0
    assert list(ckpt['meta']['dataset_meta']['classes']) == \
        exported['tree']['classes']
    assert 'Distill' not in ckpt['meta']['cfg']


def test_get_model_gives_same_logits(exported):
    from mmpretrain import get_model
    result, cfg = exported['result'], exported['cfg']
    student = get_model(result['config'], pretrained=result['checkpoint'])
    images = exported['tree']['val_files']
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        batch = pseudo_collate([
            Compose(cfg.test_dataloader.dataset.pipeline)(dict(img_path=p))
            for p in images
        ])
    with torch.no_grad():
        logits = student(student.data_preprocessor(batch, False)['inputs'],
                         mode='tensor')
    torch.testing.assert_close(
        logits, student_logits(exported['model'], cfg, images), rtol=1e-5,
        atol=1e-5)


def test_no_data_keeps_what_the_inferencer_needs(exported, tmp_path):
    export_main([exported['cfg'].filename, exported['ckpt'], '--out-dir',
                 str(tmp_path), '--no-data'])
    cfg = Config.fromfile(str(tmp_path / 'distill_student.py'))
    assert 'train_dataloader' not in cfg and 'val_dataloader' not in cfg
    # A typed, lazily built placeholder (get_model reads its type), on the
    # annotation file a with-data export would write.
    assert cfg.test_dataloader == dict(dataset=dict(
        type='CustomDataset', data_root=exported['tree']['root'],
        ann_file=str(tmp_path / 'distill_student_val.txt'), data_prefix='',
        with_label=True, lazy_init=True,
        pipeline=Config.fromfile(exported['result']['config'])
        .test_dataloader.dataset.pipeline))
    assert not glob.glob(str(tmp_path / '*.txt'))


def test_missing_data_names_dataset_and_fix(exported, tmp_path):
    with pytest.raises(ValueError) as info:
        export_main([
            exported['cfg'].filename, exported['ckpt'], '--out-dir',
            str(tmp_path), '--cfg-options',
            f'val_dataloader.dataset.data_root={tmp_path / "nowhere"}'
        ])
    message = str(info.value)
    assert 'Places365' in message and 'nowhere' in message
    assert '--no-data' in message


def test_refuses_non_distillation_checkpoint(exported, tmp_path):
    with pytest.raises(KeyError, match='architecture'):
        export_student(exported['cfg'], exported['result']['checkpoint'],
                       str(tmp_path))


def test_loads_checkpoints_safely(exported, tmp_path):
    """Arbitrary pickled objects are refused by the safe reader, while the
    runner's own types (HistoryBuffer, numpy) loaded in the fixture."""
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=dict(x=argparse.Namespace())), path)
    with pytest.raises(pickle.UnpicklingError, match='Namespace'):
        export_student(exported['cfg'], path, str(tmp_path))


def test_never_overwrites_its_own_inputs_without_force(exported, tmp_path,
                                                       monkeypatch):
    """Outputs naming the source checkpoint or config (here through a
    relative ``--out-dir``) are refused before anything is written, naming
    the path and ``--force``; with ``--force`` the student replaces it."""
    ckpt, cfg_path = exported['ckpt'], exported['cfg'].filename
    before = {p: open(p, 'rb').read() for p in (ckpt, cfg_path)}
    monkeypatch.chdir(exported['root'])
    for name, source, other in (('ckpt', ckpt, 'ckpt.py'),
                                ('distill', cfg_path, 'distill.pth')):
        with pytest.raises(OverwriteInputError) as info:
            export_main([cfg_path, ckpt, '--out-dir', '.', '--name', name,
                         '--no-data'])
        assert source in str(info.value) and '--force' in str(info.value)
        assert not osp.exists(other)  # nothing written
    assert before == {p: open(p, 'rb').read() for p in before}

    own = str(tmp_path / 'own.pth')
    shutil.copy(ckpt, own)
    export_main([cfg_path, own, '--out-dir', str(tmp_path), '--name', 'own',
                 '--no-data', '--force'])
    assert set(torch.load(own)['state_dict']) == set(
        exported['model'].student.state_dict())
