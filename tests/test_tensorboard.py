"""The TensorBoard switch (docs/training.md, "TensorBoard"): one line in a
config,

    visualizer = dict(vis_backends=TENSORBOARD_BACKENDS)

and a tiny real training run of the flagship config writes the scalars and
the attention-map figures to a TensorBoard event file."""
import glob
import os.path as osp

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

from utils import make_places365_tree, train_in_process, \
    write_tiny_distill_config

# The line of docs/training.md, verbatim.
SWITCH = ("visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
          "dict(type='TensorboardVisBackend')])")


def test_readme_documents_the_switch():
    from utils import REPO_ROOT
    with open(osp.join(REPO_ROOT, 'docs', 'training.md')) as f:
        assert SWITCH in f.read()


@pytest.mark.slow
def test_training_writes_scalars_and_attention_figures(tmp_path):
    data_root = str(tmp_path / 'data')
    make_places365_tree(data_root, per_class=2)  # 8 images: 2 iterations
    config = write_tiny_distill_config(
        str(tmp_path / 'tiny.py'), data_root, img_size=48, seed=0,
        extra=f"""
custom_hooks = [dict(type='AttentionMapVisualizationHook', interval=1,
                     num_samples=1, draw_before_train=True)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=100))
{SWITCH}
""")
    work_dir = str(tmp_path / 'work')
    train_in_process([config, '--work-dir', work_dir])

    events = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                'events.out.tfevents.*'))
    assert len(events) == 1, events
    acc = EventAccumulator(events[0], size_guidance={'images': 0})
    acc.Reload()
    scalars = acc.Tags()['scalars']
    for tag in ('loss', 'lr', 'accuracy/top1'):
        assert tag in scalars, scalars
    assert any(t.startswith('distill.') for t in scalars), scalars
    losses = [e.value for e in acc.Scalars('loss')]
    assert len(losses) == 2 and np.isfinite(losses).all()
    # The attention figure: before training (step 0) and after each step.
    images = acc.Images('attention_0')
    assert [e.step for e in images] == [0, 1, 2]
    assert all(e.width > 100 and e.height > 100 for e in images)
    # The local backend still writes its files next to it.
    assert glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
