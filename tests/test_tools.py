"""End to end through tools/train.py and tools/test.py: R50 -> R18 with the
gated DCTAttentionLoss on a tiny Places365-layout dataset, inheriting the
flagship config. Both tools' ``main`` (``dctkd_mm.apis.train_cli`` and
``test_cli``, all the files call) run in this process, saving a ~7 s
interpreter start each; the files themselves run as subprocesses
elsewhere: tools/train.py in the reliability tests' kill-and-resume runs
(tests/reliability/test_reliability_resume.py), and both tools through
tools/dist_train.sh (one node, then two) and tools/dist_test.sh in
tests/test_multi_process_recipe.py."""
import csv
import math
import os.path as osp
import pickle

import mmcv
import pytest
import torch
from mmengine.config import Config

import dctkd_mm  # noqa: F401  (safe torch.load of MMEngine checkpoints)
from dctkd_mm.apis import test_cli as test_tool
from utils import (FLAGSHIP_CONFIG, make_places365_tree, read_scalars,
                   read_test_metrics, train_in_process,
                   write_tiny_distill_config)

NUM_CLASSES = 5
NUM_VAL = NUM_CLASSES * 2
METRIC_KEYS = ('accuracy/top1', 'accuracy/top5', 'accuracy/mean_class')


def merged_test_cfg(argv, **overrides):
    """``test_cfg`` as tools/test.py sets it up for the flagship config."""
    args = test_tool.parse_args([FLAGSHIP_CONFIG, 'model.pth'] + argv)
    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    cfg.merge_from_dict(overrides)
    return test_tool.merge_args(cfg, args).test_cfg


def test_test_tool_picks_the_distill_test_loop(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # parse_args sets it otherwise
    assert merged_test_cfg([]) == dict(
        type='mmrazor.SingleTeacherDistillTestLoop')
    assert merged_test_cfg(['--amp']) == dict(
        type='mmrazor.SingleTeacherDistillTestLoop', fp16=True)
    # Options given for the default loop are kept ...
    assert merged_test_cfg([], test_cfg=dict(evaluate_teacher=False)) == dict(
        type='mmrazor.SingleTeacherDistillTestLoop', evaluate_teacher=False)
    # ... and a loop the config names is respected.
    assert merged_test_cfg([], test_cfg=dict(type='TestLoop')) == dict(
        type='TestLoop')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One epoch (5 iterations of 4 images, 48 px: every ResNet stage is at
    least 2x2, so all four DCT losses are non-trivial) plus validation."""
    root = tmp_path_factory.mktemp('train_tool')
    data_root = str(root / 'places365')
    make_places365_tree(data_root, num_classes=NUM_CLASSES, per_class=4,
                        val_per_class=2, size=56)
    config = write_tiny_distill_config(
        str(root / 'tiny_dct_kd.py'), data_root, num_classes=NUM_CLASSES,
        img_size=48, batch_size=4, seed=0)
    work_dir = str(root / 'work_dir')
    train_in_process([config, '--work-dir', work_dir])
    return dict(config=config, work_dir=work_dir,
                scalars=read_scalars(work_dir))


@pytest.mark.slow
def test_train_tool_distills_and_writes_checkpoint(trained):
    work_dir = trained['work_dir']
    ckpt_path = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt_path)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == ckpt_path

    train_logs = [r for r in trained['scalars'] if 'student.loss' in r]
    assert [r['iter'] for r in train_logs] == [1, 2, 3, 4, 5]
    # One DCT loss for the four stages, its per-stage parts logged too.
    stage_keys = [f'distill.dct_layer{i}' for i in (1, 2, 3, 4)]
    for record in train_logs:
        for key in ['loss', 'student.loss', 'distill.loss_dct'] + stage_keys:
            assert math.isfinite(record[key]), (key, record)
        # The total is what was optimised: task loss plus the DCT loss
        # (the per-stage values are logged for reading, not summed).
        assert record['loss'] == pytest.approx(
            record['student.loss'] + record['distill.loss_dct'], rel=1e-4)
    # Gating keeps only teacher-correct samples; a random teacher over 5
    # classes gets some right, and then each stage contributes.
    for key in stage_keys:
        assert max(r[key] for r in train_logs) > 0, key

    ckpt = torch.load(ckpt_path, map_location='cpu')
    state = ckpt['state_dict']
    assert state['architecture.head.fc.weight'].shape == (NUM_CLASSES, 512)
    assert state['teacher.head.fc.weight'].shape == (NUM_CLASSES, 2048)
    assert ckpt['meta']['epoch'] == 1


@pytest.mark.slow
def test_train_tool_validates_student_and_teacher(trained):
    val_logs = [r for r in trained['scalars'] if 'accuracy/top1' in r]
    assert len(val_logs) == 1
    metrics = val_logs[0]
    for key in METRIC_KEYS:
        for name in (key, f'teacher.{key}'):
            assert 0 <= metrics[name] <= 100, name
    # Top-5 of 5 classes always contains the label.
    assert metrics['accuracy/top5'] == 100
    assert metrics['teacher.accuracy/top5'] == 100
    # Balanced val set (2 per class): mean class accuracy equals top-1.
    assert metrics['accuracy/mean_class'] == pytest.approx(
        metrics['accuracy/top1'])


@pytest.mark.slow
def test_runs_in_one_process_keep_to_their_own_work_dirs(trained, tmp_path,
                                                         monkeypatch):
    """Two more runs of the same config in this process, started (as the
    runner sees it) in the same second: each logs into its own work dir,
    from its own first iteration. MMEngine shares a logger, message hub
    and visualizer between runs of one name, and the name is the config's
    file name and the second."""
    import mmengine.runner.runner as runner_module
    monkeypatch.setattr(runner_module.time, 'strftime',
                        lambda fmt, *args: '20261206_120000')
    work_dirs = [str(tmp_path / f'work{i}') for i in (1, 2)]
    for work_dir in work_dirs:
        train_in_process([trained['config'], '--work-dir', work_dir])
    for work_dir in work_dirs:
        losses = [r for r in read_scalars(work_dir) if 'loss' in r]
        assert [r['iter'] for r in losses] == [
            r['iter'] for r in trained['scalars'] if 'loss' in r]


@pytest.mark.slow
def test_test_tool_reproduces_validation_and_dumps_predictions(
        trained, tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # parse_args sets it otherwise
    val_metrics = [r for r in trained['scalars'] if 'accuracy/top1' in r][0]
    out = str(tmp_path / 'preds.pkl')
    test_work_dir = str(tmp_path / 'test_work_dir')
    per_class_dir = str(tmp_path / 'per_class')
    test_tool.main([
        trained['config'],
        osp.join(trained['work_dir'], 'epoch_1.pth'), '--work-dir',
        test_work_dir, '--out', out, '--per-class-dir', per_class_dir
    ])
    metrics = read_test_metrics(test_work_dir)

    # Same weights, same images, eval mode: the numbers training logged.
    expected = {k: val_metrics[k] for k in METRIC_KEYS}
    expected.update({f'teacher.{k}': val_metrics[f'teacher.{k}']
                     for k in METRIC_KEYS})
    assert {k: metrics[k] for k in expected} == pytest.approx(expected)

    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == NUM_VAL
    assert sorted(p['sample_idx'] for p in preds) == list(range(NUM_VAL))
    for pred in preds:
        assert pred['pred_score'].shape == (NUM_CLASSES, )
        assert int(pred['pred_label']) == int(pred['pred_score'].argmax())
    # The dump holds the student's predictions (the teacher's pass must
    # not overwrite them): see also the per-class check below.
    correct = sum(
        int(p['pred_label']) == int(p['gt_label']) for p in preds)
    assert 100 * correct / NUM_VAL == pytest.approx(
        metrics['accuracy/top1'])
    _check_per_class_files(per_class_dir, preds, metrics)


def _check_per_class_files(per_class_dir, preds, metrics):
    """--per-class-dir: the counts of the dumped predictions, the mean
    class accuracy the tool reported, a heat map; the teacher's too."""
    matrix = [[0] * NUM_CLASSES for _ in range(NUM_CLASSES)]
    for pred in preds:
        matrix[int(pred['gt_label'])][int(pred['pred_label'])] += 1
    with open(osp.join(per_class_dir, 'confusion_matrix.csv')) as f:
        rows = list(csv.reader(f))
    classes = rows[0][1:]
    assert len(classes) == NUM_CLASSES and classes[0] == 'airfield'
    assert [[int(v) for v in row[1:]] for row in rows[1:]] == matrix
    with open(osp.join(per_class_dir, 'per_class_accuracy.csv')) as f:
        per_class = list(csv.DictReader(f))
    assert [r['class'] for r in per_class] == classes
    accuracies = [float(r['accuracy']) for r in per_class]
    assert accuracies == pytest.approx(
        [100 * matrix[i][i] / 2 for i in range(NUM_CLASSES)], abs=1e-3)
    assert sum(accuracies) / NUM_CLASSES == pytest.approx(
        metrics['accuracy/mean_class'], abs=1e-3)
    with open(osp.join(per_class_dir, 'top_confusions.csv')) as f:
        confusions = list(csv.DictReader(f))
    off_diagonal = sorted((matrix[t][p] for t in range(NUM_CLASSES)
                           for p in range(NUM_CLASSES)
                           if t != p and matrix[t][p]), reverse=True)
    assert [int(r['count']) for r in confusions] == off_diagonal
    heatmap = mmcv.imread(osp.join(per_class_dir, 'confusion_matrix.png'))
    assert heatmap is not None and heatmap.std() > 10
    for name in ('per_class_accuracy.csv', 'confusion_matrix.csv',
                 'confusion_matrix.png'):
        assert osp.isfile(osp.join(per_class_dir, 'teacher', name))
    # The student's matrix is the dump's, the teacher's another one (the
    # two random models of this seeded run predict differently).
    teacher_csv = osp.join(per_class_dir, 'teacher', 'confusion_matrix.csv')
    with open(teacher_csv) as f:
        teacher = [[int(v) for v in row[1:]]
                   for row in list(csv.reader(f))[1:]]
    assert teacher != matrix
