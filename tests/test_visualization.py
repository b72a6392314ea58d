"""tools/visualization/visualize_attention.py, the panel module and the training hook,
on a tiny version of the flagship ResNet-50 -> ResNet-18 distillation."""
import copy
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import scipy.fft
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import student_config
from dctkd_mm.models.losses import DCTAttentionLoss
from dctkd_mm.visualization import (build_panels, eval_mode, loss_transform,
                                    render_attention_figure,
                                    stage_pairs_from_distiller)
from dctkd_mm.visualization.attention_cli import main as tool_main
from dctkd_mm.visualization.attention_cli import parse_args as tool_args
from utils import (FLAGSHIP_CONFIG, build_model, make_places365_tree,
                   save_runner_checkpoint,
                   tiny_pipelines, write_tiny_distill_config)

pytestmark = pytest.mark.usefixtures('restore_default_scope')
IMG_SIZE = 48  # layer4 is 2x2: a min-max exists at every stage
TEST_PIPELINE = tiny_pipelines(IMG_SIZE)[1]

STAGES = ('layer1', 'layer2', 'layer3', 'layer4')
PANELS = ('teacher_attention', 'student_attention', 'teacher_spectrum',
          'student_spectrum')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A tiny distillation config and checkpoint, and two images."""
    root = tmp_path_factory.mktemp('vis')
    tree = make_places365_tree(str(root / 'data'), per_class=1,
                               size=(52, 44))  # non-square: crops act
    images = tree['train_files'][:2]
    cfg_path, ckpt_path = str(root / 'distill.py'), str(root / 'ckpt.pth')
    cfg = Config.fromfile(
        write_tiny_distill_config(cfg_path, str(root / 'data'),
                                  img_size=IMG_SIZE))
    model = build_model(cfg)
    save_runner_checkpoint(model, ckpt_path, tree['classes'])
    return dict(root=root, images=images, cfg=cfg, cfg_path=cfg_path,
                ckpt=ckpt_path, model=model, classes=tree['classes'])


def _direct_stage_features(classifier, inputs):
    """ResNet stage outputs computed by hand, without hooks."""
    b = classifier.backbone
    x = b.maxpool(b.relu(b.norm1(b.conv1(inputs))))
    feats = []
    for name in STAGES:
        x = getattr(b, name)(x)
        feats.append(x)
    return feats


def _reference_panels(feature, transform='dft_real'):
    """Attention and spectrum by their definitions: numpy's FFT (real part,
    the authors' transform, which the flagship's loss uses) or scipy's
    orthonormal DCT-II."""
    att = (feature.double() ** 2).mean(dim=1)[0].numpy()
    att = (att - att.min()) / (att.max() - att.min())
    centred = att - att.mean()
    coeffs = (np.fft.fft2(centred).real if transform == 'dft_real' else
              scipy.fft.dctn(centred, norm='ortho'))
    return att, np.log1p(np.abs(coeffs))


def test_panels_draw_the_spectrum_of_the_loss_transform():
    torch.manual_seed(0)
    t_feats = [torch.rand(1, 8, 6, 5)]
    s_feats = [torch.rand(1, 4, 6, 5)]
    for transform in ('dft_real', 'dct'):
        panel = build_panels(t_feats, s_feats, transform=transform)[0][0]
        for who, feat in (('teacher', t_feats[0]), ('student', s_feats[0])):
            _, spectrum = _reference_panels(feat, transform)
            np.testing.assert_allclose(panel[f'{who}_spectrum'], spectrum,
                                       atol=1e-5)
        distance = DCTAttentionLoss(transform=transform, reduction='none')(
            s_feats, t_feats)
        np.testing.assert_allclose(panel['dct_distance'], distance[0],
                                   rtol=1e-6)
    dft, dct = (build_panels(t_feats, s_feats, transform=t)[0][0]
                for t in ('dft_real', 'dct'))
    assert not np.allclose(dft['teacher_spectrum'], dct['teacher_spectrum'])


def test_loss_transform_reads_the_distillers_dct_loss():
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    losses = cfg.model.distiller.distill_losses
    assert 'transform' not in losses.loss_dct  # the loss's default
    with DefaultScope.overwrite_default_scope('mmrazor'):
        assert loss_transform(MODELS.build(cfg.model.distiller)) == 'dft_real'
        losses.loss_dct.transform = 'dct'
        assert loss_transform(MODELS.build(cfg.model.distiller)) == 'dct'


def _run_tool(setup, out_dir, ckpt=None, extra=()):
    return tool_main([
        setup['images'][0], osp.dirname(setup['images'][1]), '--config',
        setup['cfg_path'], '--checkpoint', ckpt or setup['ckpt'],
        '--out-dir', str(out_dir), '--save-arrays', *extra
    ])


def test_stage_pairs_from_flagship(setup):
    pairs = stage_pairs_from_distiller(setup['model'].distiller)
    assert [p.name for p in pairs] == list(STAGES)
    assert [p.student_source for p in pairs] == [f'backbone.{s}'
                                                 for s in STAGES]
    assert [p.teacher_source for p in pairs] == [f'backbone.{s}'
                                                 for s in STAGES]


def _bn_modes(module):
    return {m.training for m in module.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}


def test_eval_mode_restores_distiller_modes(setup):
    model = setup['model']
    model.train(True)  # student training, teacher BN frozen
    try:
        assert _bn_modes(model.teacher) == {False}
        assert _bn_modes(model.student) == {True}
        with eval_mode(model.teacher, model.student):
            assert not model.student.training
            assert _bn_modes(model.student) == {False}
        assert model.teacher.training and model.student.training
        assert _bn_modes(model.teacher) == {False}
        assert _bn_modes(model.student) == {True}
    finally:
        model.eval()


def test_tool_panels_come_from_forward_pass(setup, tmp_path):
    written = _run_tool(setup, tmp_path)
    # One file image + a directory with one image.
    assert len(written) == 2
    for png in written:
        figure = mmcv.imread(png)
        assert figure is not None and figure.shape[0] > 200
        assert figure.std() > 10  # not a blank canvas
    stem = osp.splitext(osp.basename(setup['images'][0]))[0]
    arrays = np.load(str(tmp_path / f'{stem}_attention.npz'))

    model = setup['model']
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(TEST_PIPELINE)
    batch = pseudo_collate([pipeline(dict(img_path=setup['images'][0]))])
    # The figure shows the resized and cropped input (48 x 48, RGB).
    np.testing.assert_array_equal(
        arrays['image'], batch['inputs'][0].permute(1, 2, 0).numpy()[...,
                                                                    ::-1])
    inputs = model.data_preprocessor(batch, False)['inputs']
    with torch.no_grad():
        t_feats = _direct_stage_features(model.teacher, inputs)
        s_feats = _direct_stage_features(model.student, inputs)
    for name, t_feat, s_feat in zip(STAGES, t_feats, s_feats):
        for who, feat in (('teacher', t_feat), ('student', s_feat)):
            att, spectrum = _reference_panels(feat)
            np.testing.assert_allclose(
                arrays[f'{name}/{who}_attention'], att, atol=1e-4)
            np.testing.assert_allclose(
                arrays[f'{name}/{who}_spectrum'], spectrum, atol=1e-4)
        assert arrays[f'{name}/dct_distance'] > 0


def test_tool_figure_follows_checkpoint(setup, tmp_path):
    first = _run_tool(setup, tmp_path / 'a')
    # Same teacher, re-initialised student layer3/layer4.
    model = build_model(setup['cfg'])
    torch.manual_seed(1)
    for name in ('layer3', 'layer4'):
        for m in getattr(model.student.backbone, name).modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.normal_(m.weight, std=0.5)
    ckpt = str(tmp_path / 'other.pth')
    save_runner_checkpoint(model, ckpt, setup['classes'])
    second = _run_tool(setup, tmp_path / 'b', ckpt=ckpt)
    assert not np.array_equal(mmcv.imread(first[0]), mmcv.imread(second[0]))
    a = np.load(first[0][:-4] + '.npz')
    b = np.load(second[0][:-4] + '.npz')
    for name in STAGES:
        np.testing.assert_array_equal(a[f'{name}/teacher_attention'],
                                      b[f'{name}/teacher_attention'])
    assert not np.allclose(a['layer4/student_attention'],
                           b['layer4/student_attention'])


def test_tool_plain_models_match_distillation(setup, tmp_path):
    """Teacher and student as plain MMPretrain models give the same panels
    as the distillation checkpoint they come from."""
    model, cfg = setup['model'], setup['cfg']
    paths = {}
    for who, key in (('teacher', 'teacher'), ('student', 'architecture')):
        plain = copy.deepcopy(cfg)
        plain.model.architecture = copy.deepcopy(cfg.model[key])
        config_path = str(tmp_path / f'{who}.py')
        student_config(plain).dump(config_path)
        ckpt_path = str(tmp_path / f'{who}.pth')
        torch.save(dict(state_dict=getattr(model, who).state_dict()),
                   ckpt_path)
        paths[who] = (config_path, ckpt_path)
    tool_main([
        setup['images'][0], '--teacher-config', paths['teacher'][0],
        '--teacher-checkpoint', paths['teacher'][1], '--student-config',
        paths['student'][0], '--student-checkpoint', paths['student'][1],
        '--out-dir', str(tmp_path / 'plain'), '--save-arrays'
    ])
    _run_tool(setup, tmp_path / 'distill')
    stem = osp.splitext(osp.basename(setup['images'][0]))[0]
    plain = np.load(str(tmp_path / 'plain' / f'{stem}_attention.npz'))
    distill = np.load(str(tmp_path / 'distill' / f'{stem}_attention.npz'))
    assert sorted(plain.files) == sorted(distill.files)
    for key in plain.files:
        np.testing.assert_allclose(plain[key], distill[key], rtol=1e-5,
                                   atol=1e-5)


def test_tool_rejects_mixed_modes(setup, tmp_path):
    with pytest.raises(SystemExit):
        tool_args([
            setup['images'][0], '--config', setup['cfg_path'],
            '--student-config', setup['cfg_path'], '--out-dir',
            str(tmp_path)
        ])


def test_render_shape_and_validation():
    torch.manual_seed(0)
    t_feats = [torch.rand(2, 8, 6, 6), torch.rand(2, 16, 3, 3)]
    s_feats = [torch.rand(2, 4, 6, 6), torch.rand(2, 8, 3, 3)]
    panels = build_panels(t_feats, s_feats)
    assert len(panels) == 2 and len(panels[0]) == 2
    assert set(PANELS) <= set(panels[0][0])
    assert panels[1][1]['student_attention'].shape == (3, 3)
    image = np.zeros((20, 20, 3), np.uint8)
    figure = render_attention_figure(image, panels[0], ['a', 'b'], 'title')
    assert figure.dtype == np.uint8 and figure.ndim == 3
    assert figure.shape[2] == 3
    with pytest.raises(ValueError):
        render_attention_figure(image, panels[0], ['a'])
    with pytest.raises(ValueError):
        build_panels(t_feats, s_feats[:1])


@pytest.mark.slow
def test_hook_logs_figures_during_training(tmp_path):
    from mmengine.runner import Runner
    data_root = str(tmp_path / 'data')
    make_places365_tree(data_root, num_classes=5, per_class=1)
    cfg = Config.fromfile(write_tiny_distill_config(  # 3 iterations
        str(tmp_path / 'distill.py'), data_root, num_classes=5,
        img_size=IMG_SIZE, batch_size=2))
    # The runner writes the config's text four times; yapf formatting
    # costs seconds of CPU and nothing here reads the text.
    object.__setattr__(cfg, '_format_python_code', False)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = 'attention_hook_test'
    cfg.log_level = 'WARNING'
    # Epoch-based: the loop sets the model's modes once per epoch, so a
    # hook that disturbed them would be caught at the end.
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_begin=100)
    cfg.param_scheduler = None
    cfg.optim_wrapper = dict(
        optimizer=dict(type='SGD', lr=0.5, momentum=0.9))
    cfg.default_hooks.checkpoint = None  # no 100 MB files
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.custom_hooks = [
        dict(type='AttentionMapVisualizationHook', interval=2,
             num_samples=2, draw_before_train=True),
        # Training images, through the val pipeline instead of random crops.
        dict(type='AttentionMapVisualizationHook', interval=2,
             num_samples=1, source='train', name='train_attention'),
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()
    vis_dir = osp.join(runner.log_dir, 'vis_data', 'vis_image')
    names = sorted(osp.basename(p) for p in glob.glob(vis_dir + '/*.png'))
    assert names == [f'attention_{i}_{step}.png' for i in (0, 1)
                     for step in (0, 2)] + ['train_attention_0_2.png']
    before = mmcv.imread(osp.join(vis_dir, 'attention_0_0.png'))
    after = mmcv.imread(osp.join(vis_dir, 'attention_0_2.png'))
    assert before.shape == after.shape and before.std() > 10
    # The student trained in between, so its panels changed.
    assert not np.array_equal(before, after)
    # The hook left the modes as the distiller sets them: student training,
    # teacher frozen with its BN layers in eval mode.
    model = runner.model
    assert model.training and model.student.training
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert _bn_modes(model.teacher) == {False}
    assert _bn_modes(model.student) == {True}
