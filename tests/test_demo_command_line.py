"""The demo's command line (dctkd_mm.demo.settings, tools/run_demo.py):
defaults, the learning rate per 32 images, bad options, and --device cuda's
full-width networks."""
import pytest
import torch

from dctkd_mm.demo import methods as demo_methods
from dctkd_mm.demo import pipeline, report, training
from dctkd_mm.demo.settings import parse_args, run_settings
from utils import add_crd_indices, untrained_arm_config

# --- command line -----------------------------------------------------------


def test_defaults_run_the_paper_arms_at_five_seeds_on_two_workers():
    args = parse_args([])
    assert args.methods == ['baseline', 'at', 'kd', 'dct', 'dct+kd'] == list(
        demo_methods.DEFAULT_METHODS)
    assert parse_args(['--methods', 'all']).methods == list(
        demo_methods.DEMO_METHODS)
    assert args.seeds == 5 and args.workers == 2 and args.threads == 1
    # The teacher learns from more than the students' training set.
    assert args.teacher_train_per_class > args.train_per_class
    assert args.width == training.CPU_WIDTH and args.device == 'cpu'
    args = parse_args(['--methods', 'baseline,dct', '--seeds', '5',
                       '--val-images', '100', '--num-classes', '8'])
    assert args.methods == ['baseline', 'dct'] and args.seeds == 5
    assert args.val_per_class == 13
    assert args.references == ['baseline', 'at', 'kd']
    args = parse_args(['--methods', 'dct,dct+fast-teacher',
                       '--references', 'dct'])
    assert args.references == ['dct']


def test_learning_rate_is_per_32_images_and_reported():
    # The default is the authors' step per image: lr 0.1 for 128 images.
    assert parse_args([]).lr == training.STUDENT_LR == pytest.approx(
        0.1 * 32 / 128)
    # The default run uses the authors' batch and lr themselves.
    job = training.student_job(demo_methods.DEMO_METHODS['kd'],
                               run_settings(parse_args([])), '/d', 0,
                               'i.pth', 't.pth', '/w')
    assert job['options']['train_dataloader.batch_size'] == 128
    assert job['options']['optim_wrapper.optimizer.lr'] == pytest.approx(0.1)
    settings = run_settings(parse_args(['--lr', '0.05', '--batch-size',
                                        '64']))
    job = training.student_job(demo_methods.DEMO_METHODS['kd'], settings,
                               '/d', 0, 'i.pth', 't.pth', '/w')
    assert job['options']['optim_wrapper.optimizer.lr'] == 0.1
    assert job['options']['train_dataloader.batch_size'] == 64
    assert report._step_text(dict(batch_size=64, lr=0.1)) == \
        ' of batch 64 at lr 0.1'


@pytest.mark.parametrize('argv, message', [
    (['--methods', 'baseline,bogus'], "unknown ['bogus']"),
    (['--references', 'nope'], "--references: unknown ['nope']"),
    (['--seeds', '0'], '--seeds must be >= 1'),
    (['--num-classes', '4'], '--num-classes must be >= 5'),
    (['--image-size', '16'], '--image-size must be >= 32'),
    (['--val-every', '0'], '--val-every must be >= 1'),
    (['--warmup-epochs', '-1'], '--warmup-epochs must be >= 0'),
    (['--lr', '0'], '--lr must be > 0'),
])
def test_bad_options_name_the_option(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_cuda_device_means_full_width_networks():
    """--device cuda builds the paper's full-width ResNets (plumbing
    checked on CPU: the configs build and run a forward pass)."""
    from mmpretrain.structures import DataSample
    from mmrazor.registry import MODELS
    args = parse_args(['--device', 'cuda', '--quick'])
    assert args.width == training.FULL_WIDTH == 64
    assert parse_args(['--device', 'cuda', '--width', '32']).width == 32
    settings = run_settings(args)
    arm = demo_methods.DEMO_METHODS['dct+kd']
    model = MODELS.build(untrained_arm_config(arm, settings).model)
    assert model.student.backbone.layer1[0].conv1.in_channels == 64
    assert model.teacher.head.fc.in_features == 2048
    x = torch.zeros(2, 3, 32, 32)
    with torch.no_grad():
        assert model.student(x).shape == (2, settings['num_classes'])
        assert model.teacher(x).shape == (2, settings['num_classes'])
    for arm in demo_methods.DEMO_METHODS.values():  # H4's arms too
        # CKD at full width holds the zoo's ~635M-parameter regressors
        # (6.7 GB here); its width scaling is checked at width 32 in
        # test_demo_arms.py, its zoo configs in
        # test_zoo_every_new_cell_trains.py.
        if not arm.distills or arm.name.startswith('ckd'):
            continue
        cfg = untrained_arm_config(arm, settings)
        model = MODELS.build(cfg.model)
        samples = [DataSample().set_gt_label(i) for i in (0, 1)]
        if cfg.train_dataloader.dataset.type == 'AuthorsCRDDataset':
            add_crd_indices(samples, cfg)
        data = model.data_preprocessor(dict(
            inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)] * 2,
            data_samples=samples), True)
        losses = model(**data, mode='loss')
        assert any(k.startswith('distill.') for k in losses), arm.name
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match='--device cuda'):
            pipeline.main(['--device', 'cuda', '--quick'])
