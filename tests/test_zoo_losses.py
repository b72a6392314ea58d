"""Every distillation config of the zoo computes the authors' losses.

For each (method, pair) the real zoo config is built, one ``mode='loss'``
step runs on fixed inputs, and the sum of its ``distill.*`` terms and its
cross-entropy are compared with the authors' formulas (their
``trainCNNs.py``: ``BETA * CE + ALPHA * distill + DELTA * KD``) computed
here, independently, from the same stage features and logits captured by
forward hooks. The formulas are re-implemented from their definitions:

- DCT: ``Distillation Zoo/DFTOurs.py`` (real part of the 2-D DFT), checked
  first against ``tests/data/dct_reference_cases.npz``;
- AT: RepDistiller ``at_loss`` summed over the stages, times 1000;
- KD: RepDistiller ``DistillKL``, ``T^2 * KL(sum) / B`` with T = 4.

Models are built once per (method, pair) at 64 px; the configs of the
other datasets are checked to differ from the built one only in dataset
fields (classes, normalisation, data, teacher checkpoint).
"""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from utils import REPO_ROOT

ZOO = osp.join(REPO_ROOT, 'configs', 'distill')
GOLDEN = osp.join(osp.dirname(__file__), 'data', 'dct_reference_cases.npz')
DATASETS = ('ade20k', 'sun397', 'mit67', 'places365')
PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')
# method -> (ALPHA and its loss, BETA, DELTA) from the authors' runs.
RECIPE = {
    'dct': dict(alpha=1.0, distill='dct', beta=1.0, delta=0.0),
    'dct-kd': dict(alpha=1.0, distill='dct', beta=0.1, delta=1.0),
    'at': dict(alpha=1000.0, distill='at', beta=1.0, delta=0.0),
    'at-kd': dict(alpha=1000.0, distill='at', beta=0.1, delta=1.0),
    'kd': dict(alpha=0.8, distill='kd', beta=0.1, delta=0.0),
}
STAGES = {
    'resnet': ['backbone.layer1', 'backbone.layer2', 'backbone.layer3',
               'backbone.layer4'],
    'mobilenet-v2': ['backbone.layer2', 'backbone.layer3',
                     'backbone.layer5', 'backbone.conv2'],
}
BATCH, SIZE, T = 4, 64, 4.0


# --- the authors' formulas, from their definitions -------------------------


def _minmax(x):
    flat = x.flatten(1)
    lo = flat.min(1)[0][:, None, None]
    hi = flat.max(1)[0][:, None, None]
    return (x - lo) / (hi - lo)


def _authors_spectrum(feature):
    """DFTOurs.returnAM then computeDCT, in float64."""
    am = _minmax(feature.double().pow(2).mean(1))
    am = am - am.flatten(1).mean(1)[:, None, None]
    spec = torch.real(torch.fft.fft(torch.fft.fft(am, dim=1), dim=2))
    return _minmax(spec).flatten(1)


def authors_dct_per_sample(students, teachers):
    """DFTOurs.forward: per-sample L2 distance, summed over the scales."""
    return sum((_authors_spectrum(s) - _authors_spectrum(t)).norm(dim=1)
               for s, t in zip(students, teachers))


def authors_dct(students, teachers, t_logits, labels):
    """Distillation.KnowledgeDistillation for 'dft' with PRED_GUIDE."""
    per_sample = authors_dct_per_sample(students, teachers)
    correct = (t_logits.argmax(1) == labels).double()
    return (per_sample * correct).mean()


def repdistiller_at(students, teachers):
    """Sum over stages of RepDistiller's at_loss (equal map sizes)."""
    def at(f):
        return F.normalize(f.double().pow(2).mean(1).view(f.size(0), -1))
    return sum((at(s) - at(t)).pow(2).mean()
               for s, t in zip(students, teachers))


def repdistiller_kl(s_logits, t_logits, temperature=T):
    """RepDistiller DistillKL."""
    p_s = F.log_softmax(s_logits.double() / temperature, dim=1)
    p_t = F.softmax(t_logits.double() / temperature, dim=1)
    return (F.kl_div(p_s, p_t, reduction='sum') * temperature**2 /
            s_logits.shape[0])


def test_authors_dct_formula_reproduces_the_reference_cases():
    data = np.load(GOLDEN, allow_pickle=False)
    cases = sorted({k.split('_')[0] for k in data.files})
    assert len(cases) == 5
    for case in cases:
        n = int(data[f'{case}_n_scales'])
        s = [torch.from_numpy(data[f'{case}_student_{i}']) for i in range(n)]
        t = [torch.from_numpy(data[f'{case}_teacher_{i}']) for i in range(n)]
        per_sample = authors_dct_per_sample(s, t)
        np.testing.assert_allclose(per_sample.numpy(),
                                   data[f'{case}_per_sample_loss'],
                                   rtol=1e-4, err_msg=case)
        gated = authors_dct(s, t, torch.from_numpy(data[f'{case}_teacher_'
                                                        'logits']),
                            torch.from_numpy(data[f'{case}_labels']))
        np.testing.assert_allclose(float(gated),
                                   float(data[f'{case}_gated_mean_loss']),
                                   rtol=1e-4, err_msg=case)


# --- the zoo ---------------------------------------------------------------


def zoo_config(method, pair, dataset):
    return osp.join(ZOO, method,
                    f'{method}_{pair}_1xb128-70e_{dataset}.py')


# The authors' other rows (issue 20): their losses are checked against the
# authors' code in tests/test_zoo_pkt_vid.py, tests/test_zoo_crd.py and
# tests/test_zoo_ckd.py; here only that every cell has its config.
OTHER_METHODS = ('pkt', 'pkt-kd', 'vid', 'vid-kd', 'crd', 'crd-kd', 'ckd',
                 'ckd-kd')


def test_every_cell_of_the_papers_table_has_a_config():
    from dctkd_mm.zoo.paper_table import (AUTHORS_OTHER_METHODS,
                                          FIRST_METHODS, paper_cells)
    assert set(FIRST_METHODS) == set(RECIPE)
    assert set(AUTHORS_OTHER_METHODS) == set(OTHER_METHODS)
    methods = tuple(RECIPE) + OTHER_METHODS
    expected = {zoo_config(m, p, d) for m in methods for p in PAIRS
                for d in DATASETS}
    assert len(expected) == 13 * 3 * 4
    found = set(glob.glob(osp.join(ZOO, '*', '*.py')))
    assert found == expected
    # and every cell of the paper's table (published or Places365) is one
    # of them
    cells = paper_cells(DATASETS)
    assert {osp.join(REPO_ROOT, c.config) for c in cells
            if c.method in methods} <= expected
    assert {c.method for c in cells} >= set(methods)


def _dataset_free(cfg):
    """The config's model with the dataset-specific fields removed."""
    model = cfg.model.to_dict()
    model.pop('data_preprocessor')
    model.pop('teacher_ckpt')
    for part in ('architecture', 'teacher'):
        model[part]['head'].pop('num_classes')
    return model


def _build(cfg):
    from mmrazor.registry import MODELS
    model_cfg = cfg.model.copy()
    model_cfg.teacher_ckpt = None  # random teacher: the formulas hold
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    model.train()
    return model


class _Capture:
    """Forward hooks recording module outputs (independent of the
    distiller's recorders)."""

    def __init__(self, model, names):
        self.outputs = {}
        modules = dict(model.named_modules())
        self.handles = [
            modules[name].register_forward_hook(self._hook(name))
            for name in names
        ]

    def _hook(self, name):
        def hook(module, inputs, output):
            self.outputs[name] = output.detach()
        return hook

    def remove(self):
        for handle in self.handles:
            handle.remove()


def _labels_half_right(model, inputs):
    """Labels the (eval-mode, frozen) teacher gets right for the first half
    of the batch and wrong for the rest, so gating matters."""
    with torch.no_grad():
        feats = model.teacher.extract_feat(
            model.data_preprocessor({'inputs': inputs})['inputs'])
        pred = model.teacher.head(feats).argmax(1)
    num_classes = model.teacher.head.num_classes
    wrong = (pred + 1) % num_classes
    return torch.where(torch.arange(len(pred)) < len(pred) // 2, pred, wrong)


@pytest.mark.parametrize('pair', PAIRS)
@pytest.mark.parametrize('method', sorted(RECIPE))
def test_zoo_losses_equal_the_authors(method, pair):
    from mmpretrain.structures import DataSample
    recipe = RECIPE[method]
    base = Config.fromfile(zoo_config(method, pair, 'mit67'))
    for dataset in DATASETS:
        other = Config.fromfile(zoo_config(method, pair, dataset))
        assert _dataset_free(other) == _dataset_free(base), dataset
    model = _build(base)
    # The authors' teacher.eval(): MMRazor keeps the teacher's BatchNorm in
    # eval mode (a ResNet teacher has no other train/eval difference).
    assert not any(m.training for m in model.teacher.modules()
                   if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))

    gen = torch.Generator().manual_seed(1)
    inputs = torch.rand(BATCH, 3, SIZE, SIZE, generator=gen) * 255
    labels = _labels_half_right(model, inputs)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    student_kind = 'mobilenet-v2' if 'mobilenet' in pair else 'resnet'
    s_cap = _Capture(model.student, STAGES[student_kind] + ['head.fc'])
    t_cap = _Capture(model.teacher, STAGES['resnet'] + ['head.fc'])
    torch.manual_seed(2)
    losses = model.loss(model.data_preprocessor(
        {'inputs': inputs, 'data_samples': samples}, True)['inputs'],
        samples)
    s_cap.remove()
    t_cap.remove()

    s_feats = [s_cap.outputs[n] for n in STAGES[student_kind]]
    t_feats = [t_cap.outputs[n] for n in STAGES['resnet']]
    s_logits, t_logits = s_cap.outputs['head.fc'], t_cap.outputs['head.fc']
    assert [f.shape[-2:] for f in s_feats] == [f.shape[-2:] for f in t_feats]
    if recipe['distill'] == 'dct':
        distill = authors_dct(s_feats, t_feats, t_logits, labels)
        assert 0 < float(distill)  # half the batch is gated in
    elif recipe['distill'] == 'at':
        distill = repdistiller_at(s_feats, t_feats)
    else:
        distill = repdistiller_kl(s_logits, t_logits)
    expected = recipe['alpha'] * distill
    if recipe['delta']:
        expected = expected + recipe['delta'] * repdistiller_kl(
            s_logits, t_logits)
    ce = recipe['beta'] * F.cross_entropy(s_logits.double(), labels)
    torch.testing.assert_close(losses['student.loss'].double(), ce,
                               rtol=1e-5, atol=0)
    # What the optimiser minimises: MMEngine sums the terms whose key says
    # 'loss' (whatever modules the distillation is split into).
    total, _ = model.parse_losses(losses)
    torch.testing.assert_close(total.double(), ce + expected, rtol=2e-4,
                               atol=0)


def test_flagship_is_the_zoos_dct_resnet50_resnet18_recipe():
    """configs/dct_kd_r50_r18_places365.py builds the model whose losses are
    checked above (DCT, R50 -> R18), on Places365 with the CSAIL teacher."""
    flagship = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'dct_kd_r50_r18_places365.py'))
    zoo = Config.fromfile(zoo_config('dct', 'resnet50_resnet18', 'mit67'))
    assert _dataset_free(flagship) == _dataset_free(zoo)
    assert flagship.model.teacher_ckpt == 'checkpoints/resnet50_places365.pth'
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert flagship[key] == zoo[key], key
