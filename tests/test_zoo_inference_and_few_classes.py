"""Issue 19 defects met through the zoo's real configs:
MMPretrain's ``ImageClassificationInferencer`` on teacher and baseline
configs (their test pipeline starts with ``CheckedLoadImageFromFile``,
which the Inferencer does not strip), and the zoo's top-5 evaluator on a
dataset of fewer than 5 classes."""
import logging
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.apis import ImageClassificationInferencer
from mmpretrain.evaluation import Accuracy

from dctkd_mm.datasets import CheckedLoadImageFromFile
from utils import REPO_ROOT, make_places365_tree

pytestmark = pytest.mark.usefixtures('restore_default_scope')

TEACHER = osp.join(REPO_ROOT, 'configs/teachers/'
                   'resnet50_in1k-pre_1xb128-70e_places365.py')
BASELINE = osp.join(REPO_ROOT, 'configs/baselines/'
                    'resnet18_1xb128-70e_mit67.py')


@pytest.mark.parametrize('config', [TEACHER, BASELINE],
                         ids=['teacher', 'baseline'])
def test_inferencer_runs_on_zoo_config(config, tmp_path):
    """Random weights (no checkpoint): on a JPEG path and on the same
    image as an array, the same scores over the config's classes."""
    cfg = Config.fromfile(config)
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[0]['type'] == 'CheckedLoadImageFromFile'
    rng = np.random.default_rng(0)
    jpeg = str(tmp_path / 'scene.jpg')
    mmcv.imwrite(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8), jpeg)
    torch.manual_seed(0)
    inferencer = ImageClassificationInferencer(config, pretrained=False,
                                               device='cpu')
    # Ours stays in the pipeline and passes the decoded image through.
    assert any(isinstance(t, CheckedLoadImageFromFile)
               for t in inferencer.pipeline.transforms)
    from_path, from_array = inferencer([jpeg, mmcv.imread(jpeg)])
    assert from_path['pred_scores'].shape == (cfg.model.head.num_classes, )
    assert from_path['pred_scores'].sum() == pytest.approx(1, abs=1e-4)
    np.testing.assert_allclose(from_path['pred_scores'],
                               from_array['pred_scores'], atol=1e-6)
    assert from_path['pred_label'] == from_array['pred_label']


def test_checked_loader_without_path_or_image_names_keys():
    with pytest.raises(KeyError, match=r"neither 'img_path' nor a decoded "
                       r"'img'; keys: \['img_shape'\]"):
        CheckedLoadImageFromFile().transform(dict(img_shape=(2, 2)))


class Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_zoo_evaluator_reports_top5_on_four_classes(tmp_path):
    """A baseline config's own test loop and evaluator on a 4-class
    Places365 tree: top-5 is top-4 there (100%), with a note in the log;
    MMPretrain's Accuracy refused it (``Top-5 accuracy is unavailable``)."""
    tree = make_places365_tree(str(tmp_path / 'places365'), num_classes=4,
                               per_class=1, size=24, val_per_class=2)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/baselines/resnet18_1xb128-70e_'
                 'places365.py'))
    assert [m['topk'] for m in cfg.test_evaluator if 'topk' in m] == [(1, 5)]
    cfg.model.head.num_classes = 4
    cfg.test_dataloader.dataset.data_root = tree['root']
    cfg.test_dataloader.update(batch_size=8, num_workers=0,
                               persistent_workers=False)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    records = Records()
    runner.logger.addHandler(records)
    metrics = runner.test()
    assert metrics['accuracy/top5'] == pytest.approx(100.0)
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert 'accuracy/mean_class' in metrics
    assert any('4 classes, so top-5 accuracy is computed as top-4' in m
               for m in records.messages), records.messages
    # What the zoo's evaluator used to be.
    plain = Accuracy(topk=(1, 5))
    plain.results = [dict(pred_score=torch.rand(4), gt_label=torch.tensor(
        [0]))]
    with pytest.raises(ValueError, match='Top-5 accuracy is unavailable'):
        plain.compute_metrics(plain.results)
