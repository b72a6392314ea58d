"""tools/export_student.py: a distillation checkpoint's student as a plain
MMPretrain model that predicts exactly as it did inside the distiller."""
import argparse
import importlib.util
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import export_student
from tiny_distill import (CLASSES, REPO_ROOT, TEST_PIPELINE, build_model,
                          save_runner_checkpoint, tiny_config,
                          write_image_tree)
from tiny_distill import restore_default_scope  # noqa: F401 (autouse)


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """A distiller with an adapter (so it has ``distiller.*`` weights),
    its runner-style checkpoint, and the exported student."""
    root = tmp_path_factory.mktemp('export')
    images = write_image_tree(str(root / 'data'))
    cfg = tiny_config(str(root / 'data'), adapter=True)
    cfg.log_level = 'WARNING'
    model = build_model(cfg)
    cfg_path, ckpt_path = str(root / 'distill.py'), str(root / 'ckpt.pth')
    cfg.dump(cfg_path)
    save_runner_checkpoint(model, ckpt_path)
    result = _load_tool('export_student').main(
        [cfg_path, ckpt_path, '--out-dir', str(root / 'out')])
    return dict(root=root, images=images, cfg=cfg, cfg_path=cfg_path,
                ckpt=ckpt_path, model=model, result=result)


def _batch(images):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(TEST_PIPELINE)
    return pseudo_collate([pipeline(dict(img_path=p)) for p in images])


def _student_logits(model, batch):
    """What the student computes inside the distillation model."""
    with torch.no_grad():
        inputs = model.data_preprocessor(batch, False)['inputs']
        return model.student(inputs, mode='tensor')


def test_checkpoint_holds_only_the_student(exported):
    result, model = exported['result'], exported['model']
    assert osp.basename(result['checkpoint']) == 'distill_student.pth'
    ckpt = torch.load(result['checkpoint'])  # safe load, no allowlist needed
    assert set(ckpt) == {'meta', 'state_dict'}  # no optimizer, message hub
    state = ckpt['state_dict']
    student = model.student.state_dict()
    assert set(state) == set(student)
    assert not [k for k in state if k.startswith(
        ('teacher', 'distiller', 'architecture', 'connectors'))]
    for key, value in student.items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=0)
    assert result['dropped']['teacher'] > 0
    assert result['dropped']['distiller'] == 8  # the adapter's weights
    assert tuple(ckpt['meta']['dataset_meta']['classes']) == CLASSES
    assert 'FrozenTeacherDistill' not in ckpt['meta']['cfg']


def test_config_is_plain_mmpretrain(exported):
    path = exported['result']['config']
    text = open(path).read()
    for word in ('mmrazor', 'Distill', 'teacher', 'distiller', '_scope_'):
        assert word not in text
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.model.type == 'ImageClassifier'
    # The algorithm's preprocessor (with normalisation) moved in.
    assert cfg.model.data_preprocessor.type == 'ClsDataPreprocessor'
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert cfg.val_cfg == {} and cfg.test_cfg == {}
    assert cfg.test_dataloader.dataset.pipeline == TEST_PIPELINE
    assert cfg.num_classes == len(CLASSES)


def test_get_model_gives_same_logits(exported):
    from mmpretrain import get_model
    result = exported['result']
    student = get_model(result['config'], pretrained=result['checkpoint'])
    batch = _batch(exported['images'])
    with torch.no_grad():
        inputs = student.data_preprocessor(batch, False)['inputs']
        logits = student(inputs, mode='tensor')
    expected = _student_logits(exported['model'], batch)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    assert tuple(student._dataset_meta['classes']) == CLASSES


@pytest.mark.slow
def test_loads_with_mmpretrain_alone(exported, tmp_path):
    """A fresh process that imports neither dctkd_mm nor MMRazor builds
    the student and reproduces its logits."""
    result = exported['result']
    batch = _batch(exported['images'][:3])
    with torch.no_grad():
        inputs = exported['model'].data_preprocessor(batch, False)['inputs']
    torch.save(inputs, str(tmp_path / 'inputs.pt'))
    script = f"""
import sys, torch
from mmengine.config import Config
from mmpretrain import get_model
cfg = Config.fromfile({result['config']!r}, import_custom_modules=False)
model = get_model(cfg, pretrained={result['checkpoint']!r})
assert 'dctkd_mm' not in sys.modules and 'mmrazor' not in sys.modules
with torch.no_grad():
    out = model(torch.load({str(tmp_path / 'inputs.pt')!r}), mode='tensor')
torch.save(out, {str(tmp_path / 'logits.pt')!r})
"""
    subprocess.run([sys.executable, '-c', script], check=True,
                   cwd=str(tmp_path))
    logits = torch.load(str(tmp_path / 'logits.pt'))
    with torch.no_grad():
        expected = exported['model'].student(inputs, mode='tensor')
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_inferencer_gives_same_scores(exported):
    from mmpretrain import ImageClassificationInferencer
    result = exported['result']
    inferencer = ImageClassificationInferencer(
        model=result['config'], pretrained=result['checkpoint'],
        device='cpu')
    image = exported['images'][3]
    prediction = inferencer(image)[0]
    expected = _student_logits(exported['model'],
                               _batch([image])).softmax(dim=1)[0]
    np.testing.assert_allclose(prediction['pred_scores'], expected.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert prediction['pred_class'] == CLASSES[int(expected.argmax())]


@pytest.mark.slow
def test_tools_test_gives_student_accuracy(exported, tmp_path):
    test_tool = _load_tool('test')
    result = exported['result']
    distill = test_tool.main([
        exported['cfg_path'], exported['ckpt'], '--work-dir',
        str(tmp_path / 'distill'), '--cfg-options',
        'experiment_name=export_test_distill'
    ])
    preds = str(tmp_path / 'preds.pkl')
    plain = test_tool.main([
        result['config'], result['checkpoint'], '--work-dir',
        str(tmp_path / 'plain'), '--out', preds, '--cfg-options',
        'experiment_name=export_test_plain'
    ])
    for key in ('accuracy/top1', 'accuracy/top5', 'accuracy/mean_class'):
        assert plain[key] == pytest.approx(distill[key])
    assert not [k for k in plain if k.startswith('teacher.')]
    # Per image, not just in aggregate: the dumped scores are the
    # student's inside the distiller.
    with open(preds, 'rb') as f:
        dumped = pickle.load(f)
    order = sorted(exported['images'])  # CustomDataset's order
    assert [d['img_path'] for d in dumped] == order
    expected = _student_logits(exported['model'], _batch(order))
    scores = np.stack([d['pred_score'].numpy() for d in dumped])
    np.testing.assert_allclose(scores, expected.softmax(dim=1).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_refuses_non_distillation_checkpoint(exported, tmp_path):
    with pytest.raises(KeyError, match='architecture'):
        export_student(exported['cfg'], exported['result']['checkpoint'],
                       str(tmp_path))


def test_loads_checkpoints_safely(exported, tmp_path):
    """Arbitrary pickled objects are refused (safe torch.load), while the
    runner's own types (HistoryBuffer, numpy) loaded in the fixture."""
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=dict(x=argparse.Namespace())), path)
    with pytest.raises(pickle.UnpicklingError, match='Namespace'):
        export_student(exported['cfg'], path, str(tmp_path))
