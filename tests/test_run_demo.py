"""tools/run_demo.py and its report: the pieces, then one tiny end-to-end
run through tools/train.py."""
import importlib.util
import json
import os
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f'_test_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_demo = _load('run_demo')
report = _load('demo_report')


def _runs():
    return [
        dict(method='teacher', seed=0, top1=90., top5=99., mean_class=90.),
        dict(method='baseline', seed=0, top1=40., top5=80., mean_class=40.),
        dict(method='baseline', seed=1, top1=44., top5=82., mean_class=44.),
        dict(method='dct_kd', seed=0, top1=38., top5=79., mean_class=38.),
        dict(method='dct_kd', seed=1, top1=40., top5=81., mean_class=40.),
    ]


def test_summary_means_spreads_and_deltas():
    rows = {r['method']: r for r in report.summarise(_runs())}
    assert list(rows) == ['teacher', 'baseline', 'dct_kd']
    assert rows['baseline']['top1_mean'] == pytest.approx(42.)
    assert rows['baseline']['top1_std'] == pytest.approx(2 ** 0.5 * 2)
    assert rows['dct_kd']['top1_delta'] == pytest.approx(-3.)
    assert rows['teacher']['top1_delta'] is None
    assert rows['teacher']['top1_std'] == 0.
    assert rows['dct_kd']['seeds'] == [0, 1]


def test_verdict_says_when_dct_kd_loses():
    runs = _runs() + [
        dict(method='at', seed=0, top1=41., top5=80., mean_class=41.),
        dict(method='at', seed=1, top1=35., top5=80., mean_class=35.)]
    text = report.verdict(report.summarise(runs))
    assert text.startswith('DCT-KD trails the baseline by 3.0 top-1 '
                           'points (larger than the spread over seeds); '
                           'DCT-KD beats AT by 1.0 top-1 points (within '
                           'the spread over seeds).')
    assert text.endswith('Best student: ResNet-18 alone (baseline).')


def test_reports_are_written_as_markdown_and_json(tmp_path):
    settings = dict(num_classes=16, train_per_class=50, val_per_class=25,
                    image_size=64, teacher_epochs=15, epochs=12, seeds=2,
                    total_seconds=12.3, models='Two ResNets')
    text = report.write_reports(str(tmp_path), _runs(), settings)
    assert (tmp_path / 'results.md').read_text() == text
    assert '| ResNet-18 + DCT-KD | 0,1 | 39.0 ± 1.4 |' in text
    assert 'student seeds: 0, 1' in text and 'Two ResNets.' in text
    data = json.loads((tmp_path / 'results.json').read_text())
    assert data['runs'] == _runs()
    assert data['settings']['seeds'] == 2
    assert [r['method'] for r in data['summary']] == [
        'teacher', 'baseline', 'dct_kd']


def test_final_metrics_come_from_the_newest_run(tmp_path):
    for stamp, top1 in (('20250101_000000', 10.), ('20250102_000000', 55.)):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        lines = [dict(loss=1.0, step=1),
                 {'accuracy/top1': top1 - 5, 'step': 1},
                 {'accuracy/top1': top1, 'accuracy/top5': 90.,
                  'accuracy/mean_class': top1 - 1, 'step': 2}]
        (vis / 'scalars.json').write_text(
            '\n'.join(json.dumps(x) for x in lines))
    assert run_demo.read_final_metrics(str(tmp_path)) == dict(
        top1=55., top5=90., mean_class=54.)


def test_cfg_options_point_every_run_at_the_demo_data():
    args = run_demo.parse_args(['--quick'])
    plain = run_demo.cfg_options(args, '/d', 3, False, 5)
    assert plain['train_dataloader.dataset.data_root'] == '/d'
    assert plain['val_dataloader.dataset.data_root'] == '/d'
    assert plain['model.head.num_classes'] == args.num_classes
    assert plain['randomness.seed'] == 3
    assert plain['train_cfg.max_epochs'] == 5
    assert plain['param_scheduler.1.begin'] == 1
    distill = run_demo.cfg_options(args, '/d', 0, True, 1)
    assert distill['model.architecture.head.num_classes'] == args.num_classes
    assert distill['model.teacher.head.num_classes'] == args.num_classes
    assert 'model.head.num_classes' not in distill
    assert distill['param_scheduler.1.begin'] == 0  # one-epoch run


def test_every_student_starts_from_the_same_weights(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmrazor.registry import MODELS as RAZOR_MODELS
    args = run_demo.parse_args(['--quick'])
    init = str(tmp_path / 'init.pth')
    run_demo.save_student_init(args, 0, init)
    saved = torch.load(init)['state_dict']
    for method, config in run_demo.STUDENTS:
        distill = method != 'baseline'
        cfg = Config.fromfile(osp.join(run_demo.CONFIGS, config))
        opts = run_demo.cfg_options(args, '/unused', 0, distill, 1)
        prefix = 'model.architecture' if distill else 'model'
        opts[f'{prefix}.init_cfg'] = dict(type='Pretrained', checkpoint=init)
        if distill:
            opts['model.teacher_ckpt'] = None  # no teacher checkpoint here
        cfg.merge_from_dict(opts)
        registry = RAZOR_MODELS if distill else PRETRAIN_MODELS
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = registry.build(cfg.model)
        torch.manual_seed(1234)  # the init must not depend on the RNG
        model.init_weights()
        student = model.student if distill else model
        state = student.state_dict()
        assert set(state) == set(saved), method
        for key, value in saved.items():
            assert torch.equal(state[key], value), (method, key)


@pytest.mark.slow
def test_quick_demo_end_to_end(tmp_path, capsys):
    rows = run_demo.main(['--quick', '--work-dir', str(tmp_path)])
    assert [r['method'] for r in rows] == [
        'teacher', 'baseline', 'dct_kd', 'at', 'kd']
    data = json.loads((tmp_path / 'results.json').read_text())
    assert len(data['runs']) == 5
    for run in data['runs']:
        for key in ('top1', 'top5', 'mean_class'):
            assert 0. <= run[key] <= 100.
    text = (tmp_path / 'results.md').read_text()
    assert '| ResNet-18 + DCT-KD | 0 |' in text and '--quick' in text
    assert text in capsys.readouterr().out
    assert osp.isfile(tmp_path / 'teacher_r50.pth')
    # Every run went through tools/train.py: its config dump and log.
    for name in ('teacher', 'baseline_seed0', 'dct_kd_seed0'):
        files = os.listdir(tmp_path / name)
        assert any(f.endswith('.py') for f in files), name
    if osp.isfile(osp.join(ROOT, 'tools', 'visualize_attention.py')):
        assert len(os.listdir(tmp_path / 'attention')) == 4
