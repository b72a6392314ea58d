"""The zoo table and its report tool: every cell of the paper's table has
its config, the authors' numbers are the published ones, and our column is
read from work dirs written in MMEngine's own formats."""
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.visualization import LocalVisBackend

from dctkd_mm.zoo import (AUTHORS_TOP1, WorkDirFormatError, best_top1,
                          collect, config_for, config_name, format_markdown,
                          paper_cells)
from utils import REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'zoo_report.py')


def write_run(work_dir, timestamp, epochs, json_log_only=False):
    """One run's validation records as MMEngine writes them: the
    LocalVisBackend of ``<work_dir>/<timestamp>/vis_data`` (scalars.json)
    plus the logger hook's ``<timestamp>.json`` beside it. ``epochs`` maps
    epoch -> (student top-1, teacher top-1)."""
    backend = LocalVisBackend(
        save_dir=osp.join(work_dir, timestamp, 'vis_data'),
        scalar_save_file='unused.json' if json_log_only else 'scalars.json')
    backend.add_scalars({'lr': 0.1, 'loss': 2.5}, step=10,
                        file_path=f'{timestamp}.json')
    for epoch, (student, teacher) in epochs.items():
        backend.add_scalars(
            {'accuracy/top1': student, 'accuracy/top5': student + 20,
             'teacher.accuracy/top1': teacher, 'data_time': 0.01},
            step=epoch, file_path=f'{timestamp}.json')
    backend.close()
    if json_log_only:  # a run whose LocalVisBackend wrote elsewhere
        import os
        os.remove(osp.join(work_dir, timestamp, 'vis_data', 'unused.json'))


def test_every_cell_has_an_existing_config_and_the_published_number():
    cells = paper_cells()
    # teacher, baseline and 11 methods on the three datasets, plus CKD and
    # CKD + KD on ADE20K only (the authors' SUN397 / MIT67 have no CKD row)
    assert len(cells) == 3 * 3 * 13 + 3 * 2
    for cell in cells:
        assert osp.isfile(osp.join(REPO_ROOT, cell.config)), cell
    cell = next(c for c in cells if c.dataset == 'ade20k'
                and c.pair == 'resnet50_resnet18' and c.method == 'dct-kd')
    assert cell.authors_top1 == 54.25
    assert cell.config == ('configs/distill/dct-kd/dct-kd_resnet50_resnet18_'
                           '1xb128-70e_ade20k.py')
    mit_mbv2_kd = next(c for c in cells if c.dataset == 'mit67'
                       and c.pair == 'resnet50_mobilenet-v2'
                       and c.method == 'kd')
    assert mit_mbv2_kd.authors_top1 == 56.14
    assert config_for('sun397', 'resnet152_resnet34', 'baseline') == \
        'configs/baselines/resnet34_1xb128-70e_sun397.py'
    assert sum(len(v) for v in AUTHORS_TOP1.values()) == 13 * 3 + 2 * 1
    # the authors' other rows (issue 20), one cell of each
    published = {(c.dataset, c.pair, c.method): c.authors_top1
                 for c in cells}
    assert published['ade20k', 'resnet152_resnet34', 'ckd-kd'] == 53.54
    assert published['ade20k', 'resnet50_mobilenet-v2', 'ckd'] == 47.30
    assert published['sun397', 'resnet50_resnet18', 'pkt'] == 38.70
    assert published['sun397', 'resnet50_mobilenet-v2', 'crd'] == 43.56
    assert published['mit67', 'resnet152_resnet34', 'vid-kd'] == 51.79
    assert published['mit67', 'resnet50_resnet18', 'crd-kd'] == 56.11
    assert ('sun397', 'resnet50_resnet18', 'ckd') not in published
    assert ('mit67', 'resnet50_resnet18', 'ckd-kd') not in published
    assert config_for('mit67', 'resnet50_resnet18', 'ckd') == (
        'configs/distill/ckd/ckd_resnet50_resnet18_1xb128-70e_mit67.py')
    places = paper_cells(('places365', ))
    assert len(places) == 3 * 15
    assert all(c.authors_top1 is None for c in places)
    for cell in places:
        assert osp.isfile(osp.join(REPO_ROOT, cell.config)), cell


def test_best_top1_over_resumed_runs_ignores_the_teacher(tmp_path):
    work_dir = str(tmp_path / 'dct_resnet50_resnet18_1xb128-70e_mit67')
    write_run(work_dir, '20261129_100000', {1: (30.0, 90.0), 2: (41.5, 90.0)})
    write_run(work_dir, '20261129_120000', {3: (44.25, 95.0), 4: (43.0, 95.0)})
    best = best_top1(work_dir)
    assert (best.top1, best.step) == (44.25, 3)
    assert best.source.endswith(osp.join('20261129_120000', 'vis_data',
                                         'scalars.json'))


def test_the_logger_json_is_read_when_scalars_json_is_absent(tmp_path):
    work_dir = str(tmp_path / 'run')
    write_run(work_dir, '20261129_100000', {1: (12.5, 50.0)},
              json_log_only=True)
    best = best_top1(work_dir)
    assert best.top1 == 12.5
    assert best.source.endswith('20261129_100000.json')


def test_no_results_and_a_broken_record(tmp_path):
    assert best_top1(str(tmp_path / 'never_trained')) is None
    work_dir = tmp_path / 'broken'
    write_run(str(work_dir), '20261129_100000', {1: (10.0, 50.0)})
    scalars = work_dir / '20261129_100000' / 'vis_data' / 'scalars.json'
    with open(scalars, 'a') as f:
        f.write('{"accuracy/top1": 5\n')
    lines = scalars.read_text().splitlines()
    with pytest.raises(WorkDirFormatError,
                       match=rf'scalars.json:{len(lines)}: not a JSON'):
        best_top1(str(work_dir))


def test_report_tool_fills_only_the_trained_cells(tmp_path):
    root = tmp_path / 'work_dirs'
    trained = config_for('mit67', 'resnet50_resnet18', 'dct')
    write_run(str(root / config_name(trained)), '20261129_100000',
              {1: (50.0, 70.0), 2: (56.789, 71.0)})
    out = tmp_path / 'table.md'
    result = subprocess.run(
        [sys.executable, TOOL, str(root), '--out', str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines()
            if line.startswith('| MIT67') or line.startswith('| ADE20K')
            or line.startswith('| SUN397')]
    assert len(rows) == 123
    ours = [r for r in rows if f'`{trained}`' in r]
    assert len(ours) == 1
    assert ours[0].endswith('| 56.32 | 56.79 |')  # theirs, then ours
    assert all(r.endswith('| — |') for r in rows if r not in ours)
    assert '1 of 123 configs have validation results' in result.stderr
    assert out.read_text() == result.stdout


def test_readme_zoo_table_is_the_tools_output_without_runs(tmp_path):
    """The zoo table of docs/zoo.md is what the tool prints for an empty
    work_dirs: every published number beside its config, our column empty."""
    readme = open(osp.join(REPO_ROOT, 'docs', 'zoo.md')).read()
    table = format_markdown(collect(str(tmp_path / 'none'),
                                    ('ade20k', 'sun397', 'mit67')))
    assert table in readme
