"""Around the demo's runs: the progress line and its time-left estimate
(dctkd_mm.demo.scheduling), the students' share of the teacher's data
(dctkd_mm.demo.data), and the metrics a finished run leaves."""
import json

import pytest

from dctkd_mm.demo import training
from dctkd_mm.demo.data import prepare_data
from dctkd_mm.demo.scheduling import Progress


def test_progress_counts_runs_and_estimates_time_left(capsys):
    now = [0.]
    jobs = [dict(method=m, seed=0, cost=c)
            for m, c in (('teacher', 300.), ('baseline', 100.),
                         ('kd', 200.), ('dct', 200.))]
    progress = Progress(jobs, workers=2, clock=lambda: now[0])
    assert progress.start(jobs[0]) == ('[progress] run 1/4 (teacher, seed '
                                       '0), time left estimated once a run '
                                       'has finished')
    progress.start(jobs[1])
    now[0] = 60.
    progress.finish(jobs[1], dict(seconds=60.))  # 0.6 s per cost unit
    # Left: kd and dct (400 units = 240 s) and the teacher's predicted
    # 180 s minus the 60 s it has run, over 2 workers: 180 s.
    assert progress.seconds_left() == pytest.approx(180.)
    assert progress.start(jobs[2]).endswith('run 3/4 (kd, seed 0), about '
                                            '3 min left')
    now[0] = 400.  # only dct's 120 s is left, shared by 2 workers
    assert progress.start(jobs[3]).endswith('about 1 min left')
    now[0] = 401.
    assert progress.left_text() == 'under a minute left'
    assert capsys.readouterr().out.count('[progress] run ') == 4


def test_students_train_on_the_first_images_of_the_teacher_pool(
        tmp_path, capsys):
    settings = dict(num_classes=5, train_per_class=2,
                    teacher_train_per_class=5, val_per_class=2,
                    image_size=32)
    students, teacher, counts = prepare_data(settings, str(tmp_path))
    assert (counts['num_train'], counts['num_teacher_train'],
            counts['num_val']) == (10, 25, 10)
    lines = {root: (tmp_path / root / 'places365_train_standard.txt')
             .read_text().splitlines() for root in ('students', 'pool')}
    assert lines['students'] == [
        line for line in lines['pool']
        if int(line.split('/')[-1].split('.')[0]) <= 2]
    assert ((tmp_path / 'students' / 'places365_val.txt').read_text() ==
            (tmp_path / 'pool' / 'places365_val.txt').read_text())
    from dctkd_mm.datasets import Places365
    assert len(Places365(students, split='train')) == 10
    assert len(Places365(teacher, split='train')) == 25
    # Only the students' share changes: the pool is kept.
    capsys.readouterr()
    prepare_data(dict(settings, train_per_class=3), str(tmp_path))
    assert 'reusing' in capsys.readouterr().out
    assert len((tmp_path / 'students' / 'places365_train_standard.txt')
               .read_text().splitlines()) == 15


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
    assert training.read_final_metrics(str(tmp_path)) == dict(
        top1=55., top5=90., mean_class=54.)
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        training.read_final_metrics(str(tmp_path / '20250101_000000'))
