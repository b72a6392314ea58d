"""Every config in configs/ parses and builds its model (no data, no
download), and the zoo covers what the README promises."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(__file__)), 'configs')
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p)
DATASETS = {'places365': 365, 'ade20k': 1055, 'sun397': 397, 'mit67': 67}


def _rel(path):
    return osp.relpath(path, CONFIG_DIR)


def build_model(cfg):
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        return _build_model(cfg)


def _build_model(cfg):
    model_cfg = cfg.model.copy()
    if 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None  # the checkpoint is not here
    if model_cfg.get('_scope_') == 'mmrazor':
        from mmrazor.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    model = build_model(cfg)
    assert cfg.custom_imports.imports == ['dctkd_mm']
    name = osp.basename(path)
    if not any(d in name for d in DATASETS):
        return  # demo configs: built above; tests/test_demo* run them
    dataset = next(d for d in DATASETS if d in name)
    num_classes = DATASETS[dataset]
    if hasattr(model, 'teacher'):
        assert model.student.head.num_classes == num_classes
        assert model.teacher.head.num_classes == num_classes
        assert cfg.model.teacher_ckpt == (
            f'checkpoints/resnet{name.split("_r")[1].split("_")[0]}_'
            f'{dataset}.pth')
        assert cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'
    else:
        assert model.head.num_classes == num_classes
    assert cfg.train_dataloader.dataset.split == 'train'
    assert cfg.optim_wrapper.optimizer.momentum == 0.9
    assert cfg.train_cfg.max_epochs == 70


def test_flagship_is_the_one_named_in_the_readme():
    cfg = Config.fromfile(osp.join(CONFIG_DIR,
                                   'dct_kd_r50_r18_places365.py'))
    distiller = cfg.model.distiller
    assert sorted(distiller.distill_losses) == [
        f'loss_dct_s{i}' for i in range(1, 5)]
    for i in range(1, 5):
        mapping = distiller.loss_forward_mappings[f'loss_dct_s{i}']
        assert {'t_logits', 'gt_labels'} <= set(mapping)  # gating on
        assert distiller.student_recorders[f'layer{i}'].source == \
            f'backbone.layer{i}'
    assert cfg.train_dataloader.dataset.type == 'Places365'
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    assert cfg.param_scheduler.milestones == [25, 50]


def test_zoo_covers_every_dataset_pair_and_method():
    names = {osp.basename(p) for p in CONFIGS}
    for ds in DATASETS:
        for arch in ('resnet50', 'resnet152'):
            assert f'{arch}_{ds}.py' in names
        for arch in ('resnet18', 'resnet34', 'mobilenetv2'):
            assert f'{arch}_{ds}.py' in names
        for pair in ('r50_r18', 'r152_r34', 'r50_mbv2'):
            assert f'dct_kd_{pair}_{ds}.py' in names
            assert f'dct_kd_hinton_{pair}_{ds}.py' in names
        assert f'at_r50_r18_{ds}.py' in names
        assert f'hinton_kd_r50_r18_{ds}.py' in names


def test_mobilenet_student_stages_match_teacher_resolutions():
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'distill', 'dct_kd_r50_mbv2_mit67.py'))
    model = build_model(cfg)
    model.init_weights()
    from mmpretrain.structures import DataSample
    inputs = torch.rand(2, 3, 224, 224)
    samples = [DataSample().set_gt_label(0), DataSample().set_gt_label(1)]
    losses = model.loss(inputs, samples)
    recorders = model.distiller
    for i in range(1, 5):
        s = recorders.student_recorders.get_recorder(f'layer{i}')
        t = recorders.teacher_recorders.get_recorder(f'layer{i}')
        assert s.data_buffer[0].shape[-2:] == t.data_buffer[0].shape[-2:]
        assert torch.isfinite(losses[f'distill.loss_dct_s{i}'])


def test_readme_new_pair_example_builds(tmp_path):
    """The README's "new architecture pair" config is real."""
    readme = open(osp.join(CONFIG_DIR, '..', 'README.md')).read()
    section = readme.split('### A new architecture pair', 1)[1]
    code = section.split('```python\n', 1)[1].split('```', 1)[0]
    code = code.replace("'../_base_/", repr(CONFIG_DIR + '/_base_/')[:-1])
    path = tmp_path / 'dct_kd_r101_r18_mit67.py'
    path.write_text(code)
    cfg = Config.fromfile(str(path))
    model = build_model(cfg)
    assert model.teacher.backbone.depth == 101
    assert model.student.head.num_classes == 67
    assert cfg.model.teacher_ckpt == 'checkpoints/resnet101_mit67.pth'
