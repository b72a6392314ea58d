"""CRD and CRD + KD (issue 20) as López-Cifuentes et al. run them.

The authors' ``Distillation Zoo/crd/criterion.py`` + ``memory.py`` and
the index sampling of ``Libs/Datasets/SceneRecognitionDatasetCRD.py`` are
re-implemented on the CPU from their code (their ``.cuda()`` calls
dropped; ``AuthorsCRD`` and ``authors_contrast_indices`` in tests/utils/authors.py)
and compared with the zoo's models and datasets: same features,
same embedding weights and memory bank, same contrast indices. Then the
configs run through ``tools/train.py`` on a tiny MIT Indoor 67 tree in its
official layout (resized to 32 px crops by ``--cfg-options``), and a run
resumed mid-epoch ends bit-identical to an uninterrupted one, memory bank
included.
"""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from utils import (REPO_ROOT, AuthorsCRD, assert_checkpoints_equal,
                   authors_contrast_indices, crd_tiny_train_args,
                   train_in_process, write_tree_file)

import dctkd_mm  # noqa: F401
from dctkd_mm.apis import export_cli
from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.datasets import AuthorsCRDDataset
from dctkd_mm.models.losses import AuthorsCRDLoss

ZOO = osp.join(REPO_ROOT, 'configs', 'distill')
PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')
TRAIN_SIZE = dict(ade20k=20210, sun397=19850, mit67=5360, places365=1803460)
K, B = 16384, 4


def zoo_config(method, pair, dataset):
    return osp.join(ZOO, method, f'{method}_{pair}_1xb128-70e_{dataset}.py')


# --- configs ---------------------------------------------------------------


def _dataset_free(cfg):
    model = cfg.model.to_dict()
    for key in ('data_preprocessor', 'teacher_ckpt'):
        model.pop(key)
    for part in ('architecture', 'teacher'):
        model[part]['head'].pop('num_classes')
    model['distiller']['distill_losses']['loss_crd'].pop('sample_n')
    return model


@pytest.mark.parametrize('method', ('crd', 'crd-kd'))
def test_configs_follow_the_recipe(method):
    """All 24 configs: the authors' CRD settings; per pair, the configs of
    the four datasets differ only in dataset fields, so the mit67 builds
    below (parity, tools/train.py) stand for them."""
    kd = method == 'crd-kd'
    for pair in PAIRS:
        same = None
        for dataset, size in TRAIN_SIZE.items():
            cfg = Config.fromfile(zoo_config(method, pair, dataset))
            d = cfg.model.distiller
            assert d.distill_losses.loss_crd == dict(
                type='AuthorsCRDLoss', loss_weight=0.8, temperature=0.07,
                neg_num=K, momentum=0.5, dim_out=128, sample_n=size)
            assert d.student_recorders.pooled.source == 'neck.gap'
            assert d.teacher_recorders.pooled.source == 'neck.gap'
            assert [c.dim_in for c in d.connectors.values()] == [
                1280 if 'mobilenet' in pair else 512, 2048]
            assert ('loss_kd' in d.distill_losses) == kd
            assert not kd or (d.distill_losses.loss_kd.loss_weight,
                              d.distill_losses.loss_kd.tau) == (1.0, 4)
            assert cfg.model.architecture.head.loss.loss_weight == (
                0.1 if kd else 1.0)
            wrapper = cfg.train_dataloader.dataset
            assert (wrapper.type, wrapper.neg_num, wrapper.num_classes) == (
                'AuthorsCRDDataset', K, cfg.num_classes)
            # Places365: not in the authors' code, and their indexing
            # cannot run on its class-sorted list (see the config).
            assert wrapper.get('authors_indexing', True) == (
                dataset != 'places365')
            assert cfg.train_cfg.type == 'ExactResumeEpochBasedTrainLoop'
            same = same or _dataset_free(cfg)
            assert _dataset_free(cfg) == same, dataset


CLASSES = ('airport_inside', 'bakery', 'gameroom', 'kitchen')


@pytest.fixture(scope='module')
def mit67_root(tmp_path_factory):
    """MIT Indoor 67's official layout, 8 training images (classes
    interleaved, so the first 4 hold all 4), 2 test images."""
    root = tmp_path_factory.mktemp('mit67')
    train = [f'{c}/tr{i}_{c}.jpg' for i in range(2) for c in CLASSES]
    test = [f'{c}/te_{c}.jpg' for c in CLASSES[:2]]
    write_tree_file(root / 'TrainImages.txt', '\n'.join(train) + '\n')
    write_tree_file(root / 'TestImages.txt', '\n'.join(test) + '\n')
    for line in train + test:
        write_tree_file(root / 'Images' / line)
    return str(root)


# --- dataset: the authors' contrast indices --------------------------------


def _wrapped(root, k, **kwargs):
    inner = dict(type='MITIndoor67', data_root=root, split='train',
                 pipeline=[])
    return AuthorsCRDDataset(inner, neg_num=k, num_classes=4, **kwargs)


@pytest.mark.parametrize('k', (3, 50))  # without / with replacement
def test_contrast_indices_are_the_authors(mit67_root, k):
    wrapper = _wrapped(mit67_root, k)
    labels = list(wrapper.gt_labels)
    np.random.seed(3)
    ours = np.stack([wrapper[i]['contrast_sample_idxs'].numpy()
                     for i in range(len(labels))])
    np.random.seed(3)
    theirs = authors_contrast_indices(labels, 4, k, np.random)
    np.testing.assert_array_equal(ours, theirs)
    assert ours[:, 1:].max() < 4  # the quirk: first nclasses samples only
    full = _wrapped(mit67_root, k, authors_indexing=False)
    assert sorted(full.cls_negative[labels[0]]) == [
        i for i, y in enumerate(labels) if y != labels[0]]
    wrapper.cls_negative[labels[0]] = np.zeros(0, np.int64)
    with pytest.raises(ValueError, match=f'class {labels[0]} has no neg'):
        wrapper[0]


# --- loss: parity with the authors' criterion + memory ---------------------


def _build(config):
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(config).model
    cfg.teacher_ckpt = None  # random teacher: the formulas hold
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def _hooks(model, store):
    def keep(name):
        return lambda module, inputs, output: store.__setitem__(name, output)
    return [getattr(model, net).get_submodule(layer).register_forward_hook(
        keep(name)) for name, net, layer in (
            ('f_s', 'student', 'neck.gap'), ('f_t', 'teacher', 'neck.gap'),
            ('logit_s', 'student', 'head.fc'),
            ('logit_t', 'teacher', 'head.fc'))]


def _kd(s, t, temp=4.0):
    """RepDistiller DistillKL, T^2 * KL(sum) / B."""
    return F.kl_div(F.log_softmax(s / temp, 1), F.softmax(t / temp, 1),
                    reduction='sum') * temp**2 / s.shape[0]


@pytest.mark.parametrize('pair', PAIRS)
def test_crd_kd_equals_the_authors(pair):
    from mmpretrain.structures import DataSample
    model = _build(zoo_config('crd-kd', pair, 'mit67'))
    model.train()
    n_data = TRAIN_SIZE['mit67']
    loss = model.distiller.distill_losses.loss_crd
    conn = model.distiller.connectors
    ref = AuthorsCRD(*[[t.detach().clone().requires_grad_()
                        for t in c.linear.parameters()]
                       for c in conn.values()],
                     loss.contrast.memory_v1, loss.contrast.memory_v2,
                     n_data)
    rng = np.random.default_rng(1)
    inputs = torch.rand(B, 3, 64, 64, generator=torch.Generator()
                        .manual_seed(1)) * 255
    labels = torch.tensor([0, 3, 7, 3])
    for step, idx in enumerate(([5, 17, 3, 200], [17, 9, 5, 4000])):
        contrast = rng.integers(0, n_data, (B, K + 1))
        contrast[:, 0] = idx
        samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(
            int(y)) for i, y in zip(idx, labels)]
        for sample, c in zip(samples, contrast):
            sample.set_field(torch.from_numpy(c), 'contrast_sample_idxs')
        store = {}
        handles = _hooks(model, store)
        batch = model.data_preprocessor(
            {'inputs': inputs, 'data_samples': samples}, True)
        losses = model.loss(batch['inputs'], samples)
        for h in handles:
            h.remove()
        crd = 0.8 * ref(store['f_s'], store['f_t'], torch.tensor(idx),
                        torch.from_numpy(contrast))
        kd = _kd(store['logit_s'], store['logit_t'])
        ce = 0.1 * F.cross_entropy(store['logit_s'], labels)
        for key, value in (('distill.loss_crd', crd), ('distill.loss_kd', kd),
                           ('student.loss', ce)):
            torch.testing.assert_close(losses[key], value.reshape(()),
                                       rtol=1e-5, atol=0, msg=key)
        total, _ = model.parse_losses(losses)
        torch.testing.assert_close(total, (crd + kd + ce).reshape(()),
                                   rtol=1e-5, atol=0)
        torch.testing.assert_close(loss.contrast.memory_v1, ref.v1)
        torch.testing.assert_close(loss.contrast.memory_v2, ref.v2)
        assert loss.contrast.params[2:4].tolist() == pytest.approx(
            [ref.z_v1, ref.z_v2], rel=1e-6)
        if step == 0:  # gradients: student, embed_s and embed_t
            mine = list(model.student.parameters()) + [
                p for c in conn.values() for p in c.linear.parameters()]
            ours = torch.autograd.grad(total, mine, allow_unused=True,
                                       retain_graph=True)
            theirs = torch.autograd.grad(
                (crd + kd + ce).sum(), mine[:-4] + ref.w_s + ref.w_t,
                allow_unused=True)
            for a, b in zip(ours, theirs):
                assert (a is None) == (b is None)
                if a is not None:
                    torch.testing.assert_close(
                        a, b, rtol=1e-4, atol=1e-6 * max(1, b.abs().max()))
            assert ours[-1].abs().sum() > 0  # embed_t trains


# --- bad input -------------------------------------------------------------


def test_bad_input_is_named():
    from mmpretrain.structures import DataSample
    with pytest.raises(ValueError, match='sample_n'):
        AuthorsCRDLoss(sample_n=None)
    loss = AuthorsCRDLoss(sample_n=10, neg_num=4)
    feats = F.normalize(torch.randn(2, 128), dim=1)
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in (0, 12)]
    with pytest.raises(KeyError, match='AuthorsCRDDataset'):
        loss(feats, feats, samples)
    for s in samples:
        s.set_field(torch.zeros(5, dtype=torch.long), 'contrast_sample_idxs')
    with pytest.raises(IndexError, match='sample_n=10'):
        loss(feats, feats, samples)
    samples[1].set_metainfo(dict(sample_idx=1))
    samples[1].set_field(torch.zeros(6).long(), 'contrast_sample_idxs')
    with pytest.raises(ValueError, match='neg_num'):
        loss(feats, feats, samples)
    # A checkpoint with another memory size is refused, not skipped.
    with pytest.raises(ValueError, match='memory_v1'):
        AuthorsCRDLoss(sample_n=11, neg_num=4).load_state_dict(
            loss.state_dict())


# --- tools/train.py on a tiny MIT Indoor 67 tree, exact resume, export -----

def _crd_state(ckpt):
    return {k: v for k, v in ckpt['state_dict'].items()
            if '.loss_crd.contrast.' in k or '.crd_embed_' in k}


def test_crd_resumes_mid_epoch_exactly(mit67_root, tmp_path):
    """4 iterations, a checkpoint every 2: a run resumed from iter_2 ends
    bit-identical to the uninterrupted run (weights, embeddings, memory
    bank and Z, optimizer, message hub)."""
    config = zoo_config('crd', 'resnet50_resnet18', 'mit67')
    extra = ('default_hooks.checkpoint.interval=2',
             'default_hooks.checkpoint.by_epoch=False',
             'default_hooks.checkpoint.save_best=None',
             'randomness.seed=0', 'randomness.deterministic=True')
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    train_in_process([config] +
                     crd_tiny_train_args(mit67_root, full, *extra))
    mid, end = (load_checkpoint_file(osp.join(full, f'iter_{i}.pth'))
                for i in (2, 4))
    # The resume checks fingerprint the wrapped sample list.
    state = mid['message_hub']['runtime_info']['exact_resume_state']
    assert state['settings']['sample_fingerprint']
    # Memory bank, Z and embeddings are checkpointed, and they move (the
    # embeddings are in the optimizer).
    before, after = _crd_state(mid), _crd_state(end)
    assert len(before) == 7 and (before[next(
        k for k in before if k.endswith('.params'))][2:4] > 0).all()
    assert not any(torch.equal(before[k], after[k]) for k in before
                   if not k.endswith('.params'))
    train_in_process([config] +
                     crd_tiny_train_args(mit67_root, resumed, *extra) +
                     ['--resume', osp.join(full, 'iter_2.pth')])
    again = load_checkpoint_file(osp.join(resumed, 'iter_4.pth'))
    for key in ('state_dict', 'optimizer', 'param_schedulers'):
        assert_checkpoints_equal(end[key], again[key], key)
    hub = 'message_hub'
    assert_checkpoints_equal(end[hub]['runtime_info'],
                             again[hub]['runtime_info'], hub)


def test_crd_kd_trains_and_exports_the_student_only(mit67_root, tmp_path):
    config = zoo_config('crd-kd', 'resnet50_mobilenet-v2', 'mit67')
    work_dir = str(tmp_path / 'work')
    train_in_process([config] + crd_tiny_train_args(
        mit67_root, work_dir, 'optim_wrapper.optimizer.lr=0.01',
        'default_hooks.checkpoint.save_best=None'))
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    assert len(_crd_state(load_checkpoint_file(ckpt))) == 7
    # --no-data here; the export with data (the AuthorsCRDDataset wrapper
    # replaced by the dataset it wraps) is tests/test_export_wrapped_
    # datasets.py's.
    out = export_cli.main([
        glob.glob(osp.join(work_dir, '*.py'))[0], ckpt, '--out-dir',
        str(tmp_path / 'export'), '--no-data'])
    exported = load_checkpoint_file(out['checkpoint'])['state_dict']
    assert 'head.fc.weight' in exported
    assert not [k for k in exported if 'crd' in k or 'distiller' in k]
