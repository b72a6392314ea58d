"""MMPretrain's own analysis tools (site-packages/mmpretrain/.mim/tools) on
this project's configs, run as a user runs them: subprocesses on the
flagship config (tiny data, a real 1-epoch run) and on a zoo baseline.
Each tool script runs once as a subprocess; its further runs execute the
same script file in this process (``runpy``, as ``python script.py``
would, with the same arguments), saving a ~9 s interpreter start each.
The "MMPretrain's analysis tools" section of docs/export.md states these
results."""
import contextlib
import csv
import glob
import io
import os.path as osp
import runpy
import sys
from unittest import mock

import mmcv
import mmengine
import mmpretrain
import pytest
import torch

from dctkd_mm.apis import test_cli
from dctkd_mm.apis.export_cli import main as export_main
from utils import (REPO_ROOT, make_places365_tree, run_tool,
                   subprocess_env, train_in_process,
                   write_tiny_distill_config)

TOOLS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools')
BASELINE = osp.join(REPO_ROOT, 'configs', 'baselines',
                    'resnet18_1xb128-70e_places365.py')
NUM_CLASSES = 5

pytestmark = [pytest.mark.slow,
              pytest.mark.usefixtures('restore_default_scope')]


def mmpretrain_tool(name, *args):
    return run_tool([sys.executable, osp.join(TOOLS, name), *map(str, args)],
                    env=subprocess_env())


def mmpretrain_tool_in_process(name, *args):
    """The same script run as ``__main__`` in this process with the same
    command line; returns what it printed (exceptions propagate)."""
    path = osp.join(TOOLS, name)
    out = io.StringIO()
    with mock.patch.object(sys, 'argv', [path, *map(str, args)]), \
            contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name='__main__')
    return out.getvalue()


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """One epoch of the flagship config on a tiny Places365 tree."""
    root = tmp_path_factory.mktemp('analysis')
    tree = make_places365_tree(str(root / 'data'), num_classes=NUM_CLASSES,
                               per_class=2)
    config = write_tiny_distill_config(
        str(root / 'tiny.py'), tree['root'], num_classes=NUM_CLASSES,
        seed=0, extra='default_hooks = dict(logger=dict(interval=1))')
    work_dir = str(root / 'work')
    train_in_process([config, '--work-dir', work_dir])
    return dict(root=root, tree=tree, config=config, work_dir=work_dir,
                ckpt=osp.join(work_dir, 'epoch_1.pth'))


def _params_string(count):
    return f'{count / 1e6:.3f}M'


def test_get_flops_on_baseline_and_exported_student(run, tmp_path):
    """Works on plain classifier configs (teachers, baselines) and on an
    exported student; a distillation config must be exported first."""
    from mmpretrain import get_model
    exported = export_main([run['config'], run['ckpt'], '--out-dir',
                            str(tmp_path)])['config']
    for config, tool in ((BASELINE, mmpretrain_tool),
                         (exported, mmpretrain_tool_in_process)):
        out = tool('analysis_tools/get_flops.py', config, '--shape', 64)
        model = get_model(config)
        params = sum(p.numel() for p in model.parameters())
        assert f'Params: {_params_string(params)}' in out, out[-600:]
        assert 'Input shape: (3, 64, 64)' in out and 'Flops: ' in out
    # The distiller itself is no classifier with extract_feat (in a
    # subprocess this exception was the tool's failure).
    with pytest.raises(NotImplementedError, match='not currently supported'):
        mmpretrain_tool_in_process('analysis_tools/get_flops.py',
                                   run['config'], '--shape', 64)


def test_confusion_matrix_matches_our_per_class_output(run, tmp_path):
    """From a checkpoint: the student's matrix, as tools/test.py
    --per-class-dir writes it; from a --out dump too."""
    cm_path, png = tmp_path / 'cm.pkl', tmp_path / 'cm.png'
    mmpretrain_tool('analysis_tools/confusion_matrix.py', run['config'],
                    run['ckpt'], '--out', cm_path, '--show-path', png)
    theirs = mmengine.load(str(cm_path))
    per_class, preds = tmp_path / 'per_class', tmp_path / 'preds.pkl'
    test_cli.main([run['config'], run['ckpt'], '--work-dir',
                   str(tmp_path / 'test'), '--per-class-dir',
                   str(per_class), '--out', str(preds)])
    with open(per_class / 'confusion_matrix.csv') as f:
        ours = [[int(v) for v in row[1:]] for row in list(csv.reader(f))[1:]]
    assert theirs.tolist() == ours
    assert int(theirs.sum()) == NUM_CLASSES * 2
    assert mmcv.imread(str(png)) is not None
    # From the predictions dumped by our tools/test.py --out.
    mmpretrain_tool_in_process('analysis_tools/confusion_matrix.py',
                               run['config'], preds, '--out',
                               tmp_path / 'cm2.pkl')
    assert torch.equal(mmengine.load(str(tmp_path / 'cm2.pkl')), theirs)


def test_analyze_logs_plots_and_times_a_run(run, tmp_path):
    scalars = glob.glob(osp.join(run['work_dir'], '*', 'vis_data',
                                 'scalars.json'))
    assert len(scalars) == 1
    png = tmp_path / 'loss.png'
    mmpretrain_tool('analysis_tools/analyze_logs.py', 'plot_curve',
                    scalars[0], '--keys', 'loss', 'distill.loss_dct',
                    '--out', png)
    assert mmcv.imread(str(png)).std() > 5
    out = mmpretrain_tool_in_process('analysis_tools/analyze_logs.py',
                                     'cal_train_time', scalars[0])
    assert 'average iter time' in out


def test_browse_dataset_original_mode_only(run, tmp_path):
    """browse_dataset.py builds our datasets and pipelines; ``--mode
    original`` draws the loaded images with their class. The other modes
    fail in MMPretrain 1.2's own ``make_grid``, which calls matplotlib's
    ``adjust_bbox`` with an older signature than the installed matplotlib
    has (nothing of ours is involved)."""
    out_dir = tmp_path / 'browse'
    mmpretrain_tool('visualization/browse_dataset.py', run['config'],
                    '--output-dir', out_dir, '--phase', 'val',
                    '--show-number', 3, '--mode', 'original', '--not-show')
    images = sorted(glob.glob(str(out_dir / '*')))
    assert [osp.basename(p) for p in images] == [
        osp.basename(p) for p in run['tree']['val_files'][:3]]
    assert all(mmcv.imread(p).std() > 5 for p in images)
    with pytest.raises(TypeError) as info:
        mmpretrain_tool_in_process(
            'visualization/browse_dataset.py', run['config'], '--output-dir',
            tmp_path / 'pipeline', '--phase', 'val', '--show-number', 1,
            '--mode', 'pipeline', '--not-show')
    # Raised inside make_grid (what the subprocess's traceback showed).
    assert 'make_grid' in [entry.name for entry in info.traceback]
    assert "adjust_bbox() missing 1 required positional argument" in str(
        info.value)
