"""The CKD (SemCKD) zoo configs, alone and with KD (issue 20).

The authors' SemCKD (``Distillation Zoo/SemCKD.py``, ``selfAT.py``, as
``Distillation.py`` applies it, ALPHA 400) is re-implemented on the CPU in
their structure (``utils.AuthorsSemCKD``) and compared, in float64, with
``SemCKDLoss`` inside the real configs: same features, same trainable
weights, same loss terms and gradients. At the configs' widths SelfA has
~635M parameters (the 3x3 convs of the layer4 regressors are 4096 x
4096), too slow for a CPU test: builds skip the random init, and the
parity and training runs shrink the ResNet-50/152 teacher to
``base_channels=8`` (its stages then give 64, 128, 256 channels);
students, recorders, loss weights and the rest are the configs'.
"""
import contextlib
import glob
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.models.losses import SemCKDLoss
from utils import (REPO_ROOT, AuthorsSemCKD, make_ade20k_scenes,
                   make_mit67_scenes, random_init_skipped, train_in_process)

pytestmark = pytest.mark.usefixtures('restore_default_scope')

ZOO = osp.join(REPO_ROOT, 'configs', 'distill')
DATASETS = ('ade20k', 'sun397', 'mit67', 'places365')
PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')
RECIPE = {'ckd': (1.0, 0.0), 'ckd-kd': (0.1, 1.0)}  # BETA (CE), DELTA (KD)
STUDENT = {'resnet18': ['layer2', 'layer3', 'layer4'],
           'resnet34': ['layer2', 'layer3', 'layer4'],
           'mobilenet-v2': ['layer3', 'layer5', 'conv2']}
SMALL_TEACHER = [64, 128, 256]


def config(method, pair, dataset):
    return osp.join(ZOO, method, f'{method}_{pair}_1xb128-70e_{dataset}.py')


# --- the authors' code (tests/utils/authors.py) and ours ----------------------


def authors_name(ours):
    """Our SelfA parameter/buffer name -> theirs."""
    name = re.sub(r'^key_embeds\.(\d)\.fc', r'key_weight\1.linear', ours)
    name = re.sub(r'^query_embeds\.(\d)\.fc', r'query_weight\1.linear', name)
    return re.sub(r'^regressors\.(\d)\.(\d)\.', r'regressor\1\2.regressor.',
                  name)


def authors_copy(loss):
    """The authors' SemCKD with our loss's current weights copied in."""
    ref = AuthorsSemCKD(loss.batch_size, loss.student_channels,
                        loss.teacher_channels)
    ref.to(next(loss.parameters()).dtype)
    ref.self_attention.load_state_dict(
        {authors_name(k): v.clone()
         for k, v in loss.self_attention.state_dict().items()}, strict=True)
    return ref


def distill_kl(s_logits, t_logits, temperature=4.0):
    return F.kl_div(F.log_softmax(s_logits / temperature, 1),
                    F.softmax(t_logits / temperature, 1),
                    reduction='sum') * temperature**2 / s_logits.shape[0]


# --- configs -------------------------------------------------------------


def test_every_ckd_cell_has_a_config():
    found = {p for m in RECIPE for p in glob.glob(osp.join(ZOO, m, '*.py'))}
    assert found == {config(m, p, d) for m in RECIPE for p in PAIRS
                     for d in DATASETS}


def _without_dataset(cfg):
    model = cfg.model.to_dict()
    for key in ('data_preprocessor', 'teacher_ckpt'):
        model.pop(key)
    for part in ('architecture', 'teacher'):
        model[part]['head'].pop('num_classes')
    return model


def _build(model_cfg, init=True):
    from mmrazor.registry import MODELS
    model_cfg = model_cfg.copy()
    model_cfg.teacher_ckpt = None
    # Full-width SelfA: its random init takes ~15 s.
    skipped = contextlib.nullcontext() if init else random_init_skipped()
    with DefaultScope.overwrite_default_scope('mmpretrain'), skipped:
        return MODELS.build(model_cfg)


@pytest.mark.parametrize('pair', PAIRS)
@pytest.mark.parametrize('method', sorted(RECIPE))
def test_configs_build_with_the_authors_recipe(method, pair):
    cfgs = [Config.fromfile(config(method, pair, d)) for d in DATASETS]
    for cfg in cfgs:
        assert _without_dataset(cfg) == _without_dataset(cfgs[0])
        assert cfg.train_dataloader.drop_last is True
    cfg = cfgs[0]
    beta, delta = RECIPE[method]
    losses = cfg.model.distiller.distill_losses
    assert cfg.model.architecture.head.loss.loss_weight == beta
    assert set(losses) == ({'loss_ckd', 'loss_kd'} if delta else {'loss_ckd'})
    if delta:
        assert losses.loss_kd == dict(type='KLDivergence', tau=4,
                                      reduction='batchmean', loss_weight=1.)
    ckd = losses.loss_ckd
    assert (ckd.loss_weight, ckd.batch_size) == (400.0, 128)
    assert ckd.batch_size == cfg.train_dataloader.batch_size
    alone = Config.fromfile(config('ckd', pair, 'ade20k'))
    assert alone.model.distiller.distill_losses.loss_ckd == ckd

    model = _build(cfg.model, init=False)
    model.eval()
    student = pair.split('_')[1]
    sources = {'student': [f'backbone.{s}' for s in STUDENT[student]],
               'teacher': ['backbone.layer2', 'backbone.layer3',
                           'backbone.layer4']}
    for side, names in sources.items():
        recorders = getattr(model.distiller, f'{side}_recorders').recorders
        assert [recorders[r].source for r in ('layer2', 'layer3', 'layer4')
                ] == names
        net = getattr(model, side)
        shapes = []
        hooks = [dict(net.named_modules())[n].register_forward_hook(
            lambda m, i, o: shapes.append(o.shape)) for n in names]
        with torch.no_grad():
            net.backbone(torch.zeros(2, 3, 64, 64))
        [h.remove() for h in hooks]
        assert [s[1] for s in shapes] == ckd[f'{side}_channels'], side
    # Trainable with the student (MMEngine optimises model.parameters()),
    # and outside the student, so exports leave it out.
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    selfa = [n for n in names if n.startswith('distiller.distill_losses.'
                                              'loss_ckd.self_attention.')]
    assert len(selfa) == 6 * 4 + 9 * 7  # key/query MLPs, regressors
    assert all(not n.startswith('teacher.') for n in names)


def test_batch_and_channel_errors_name_the_sizes():
    loss = SemCKDLoss([4, 8], [8, 16], batch_size=8)
    s = [torch.rand(6, 4, 4, 4), torch.rand(6, 8, 2, 2)]
    t = [torch.rand(6, 8, 4, 4), torch.rand(6, 16, 2, 2)]
    with pytest.raises(ValueError, match=r'batch of 6 samples.*'
                       r'batch_size=8.*drop_last=True'):
        loss(s, t)
    with pytest.raises(ValueError, match=r'teacher stage shapes .*'
                       r'teacher_channels=\[8, 16\]'):
        loss([f.repeat(2, 1, 1, 1)[:8] for f in s], t[:1])
    with pytest.raises(ValueError, match='batch_size 3 // factor 4'):
        SemCKDLoss([4], [8], batch_size=3)


def test_full_precision_under_autocast():
    """Its B x B similarities overflow float16 on real layer4 features."""
    torch.manual_seed(0)
    loss = SemCKDLoss([4, 8], [8, 16], batch_size=4)
    s = [torch.rand(4, 4, 4, 4).bfloat16(), torch.rand(4, 8, 2, 2).bfloat16()]
    t = [torch.rand(4, 8, 4, 4).bfloat16(), torch.rand(4, 16, 2, 2).bfloat16()]
    expected = loss([f.float() for f in s], [f.float() for f in t])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = loss(s, t)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_one_seed_gives_the_authors_initial_weights():
    torch.manual_seed(3)
    ours = SemCKDLoss([4, 8, 16], [8, 16, 32], batch_size=8)
    torch.manual_seed(3)
    theirs = AuthorsSemCKD(8, [4, 8, 16], [8, 16, 32]).self_attention
    state = theirs.state_dict()
    for name, value in ours.self_attention.state_dict().items():
        torch.testing.assert_close(value, state[authors_name(name)],
                                   rtol=0, atol=0)


# --- parity with the authors' code, inside the real configs --------------


def _capture(net, names):
    outputs = {}
    modules = dict(net.named_modules())
    hooks = [modules[n].register_forward_hook(
        lambda m, i, o, n=n: outputs.__setitem__(n, o)) for n in names]
    return outputs, hooks


def _close(ours, theirs, what):
    scale = float(theirs.abs().max())
    err = float((ours - theirs).abs().max())
    # + 1e-12: some BN biases have an exactly-zero gradient (rounding only)
    assert err <= 1e-9 * scale + 1e-12, f'{what}: {err:.3g} of {scale:.3g}'


@pytest.mark.parametrize('method,pair', [('ckd-kd', 'resnet50_resnet18'),
                                         ('ckd', 'resnet152_resnet34'),
                                         ('ckd-kd', 'resnet50_mobilenet-v2')])
def test_losses_and_gradients_equal_the_authors(method, pair):
    import copy
    from mmpretrain.structures import DataSample
    batch, beta, delta = 8, *RECIPE[method]
    cfg = Config.fromfile(config(method, pair, 'mit67'))
    cfg.model.teacher.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.teacher.head.in_channels = 256
    cfg.model.distiller.distill_losses.loss_ckd.update(
        teacher_channels=SMALL_TEACHER, batch_size=batch)
    torch.manual_seed(0)
    model = _build(cfg.model).double()  # float64: exact enough to compare
    model.train()
    ckd = model.distiller.distill_losses.loss_ckd
    ref, ref_student = authors_copy(ckd), copy.deepcopy(model.student)

    gen = torch.Generator().manual_seed(1)
    samples = [DataSample().set_gt_label(int(y))
               for y in torch.randint(0, 67, (batch, ), generator=gen)]
    labels = torch.tensor([int(s.gt_label) for s in samples])
    inputs = model.data_preprocessor(
        {'inputs': torch.rand(batch, 3, 64, 64, generator=gen) * 255,
         'data_samples': samples}, True)['inputs'].double()
    s_names = [f'backbone.{s}' for s in STUDENT[pair.split('_')[1]]]
    t_names = ['backbone.layer2', 'backbone.layer3', 'backbone.layer4']
    t_out, t_hooks = _capture(model.teacher, t_names + ['head.fc'])
    s_out, s_hooks = _capture(model.student, s_names + ['head.fc'])
    torch.manual_seed(2)  # MobileNetV2's dropout: the same mask below
    losses = model.loss(inputs, samples)
    [h.remove() for h in t_hooks + s_hooks]

    # The authors' step: their student (a copy), SelfA on features[1:-1].
    r_out, _ = _capture(ref_student, s_names + ['head.fc'])
    torch.manual_seed(2)
    ref_student.head(ref_student.extract_feat(inputs))
    for name in s_names + ['head.fc']:
        torch.testing.assert_close(r_out[name], s_out[name], msg=name)
    t_feats, t_logits = [t_out[n] for n in t_names], t_out['head.fc']
    s_logits = r_out['head.fc']
    expected = {
        'student.loss': beta * F.cross_entropy(s_logits, labels),
        'distill.loss_ckd': 400 * ref(*ref.self_attention(
            [r_out[n] for n in s_names], t_feats)),
    }
    if delta:
        expected['distill.loss_kd'] = delta * distill_kl(s_logits, t_logits)
    assert set(expected) == {k for k in losses if 'loss' in k}
    for key, value in expected.items():
        torch.testing.assert_close(losses[key], value, rtol=1e-10,
                                   atol=0, msg=key)
    assert float(expected['distill.loss_ckd'].detach()) > 0
    total, _ = model.parse_losses(losses)
    ref_total = sum(expected.values())
    torch.testing.assert_close(total, ref_total, rtol=1e-10, atol=0)

    total.backward()
    ref_total.backward()
    ref_params = dict(ref_student.named_parameters())
    for name, param in model.student.named_parameters():
        _close(param.grad, ref_params[name].grad, name)
    ref_params = dict(ref.self_attention.named_parameters())
    for name, param in ckd.self_attention.named_parameters():
        _close(param.grad, ref_params[authors_name(name)].grad, name)
    # (A key/query MLP of 8 x 4 can have all its ReLUs off: zero there.)
    assert all(p.grad.abs().sum() > 0 for p in ckd.self_attention.regressors
               .parameters())


# --- one step through tools/train.py, on data in the official layouts ----


@pytest.mark.slow
@pytest.mark.parametrize('method,pair,dataset,tree', [
    ('ckd', 'resnet50_resnet18', 'ade20k', make_ade20k_scenes),
    ('ckd-kd', 'resnet50_mobilenet-v2', 'mit67', make_mit67_scenes)])
def test_config_trains_a_step(method, pair, dataset, tree, tmp_path):
    """Batch 4 with drop_last: 1 step, the 5th image dropped (a batch of
    1 would stop SemCKD with its batch-size error). SelfA is optimised,
    checkpointed, and left out of the exported student."""
    from dctkd_mm.apis import export_cli
    root, work_dir = tmp_path / 'data', str(tmp_path / 'work')
    num_classes = tree(root)
    ckd = 'model.distiller.distill_losses.loss_ckd'
    options = [f'{k}_dataloader.{v}' for k in ('train', 'val', 'test')
               for v in (f'dataset.data_root={root}', 'num_workers=0')] + [
        'train_dataloader.batch_size=4', 'val_dataloader.batch_size=4',
        'train_cfg.max_epochs=1', 'model.teacher_ckpt=None',
        # 64 px crops of the zoo's pipelines (ResizeEdge, then the crop)
        *[f'{k}_dataloader.dataset.pipeline.{i}.{v}'
          for k in ('train', 'val') for i, v in ((1, 'scale=72'),
                                                 (2, 'crop_size=64'))],
        f'model.architecture.head.num_classes={num_classes}',
        f'model.teacher.head.num_classes={num_classes}',
        'model.teacher.backbone.base_channels=8',
        'model.teacher.backbone.stem_channels=8',
        'model.teacher.head.in_channels=256',
        f'{ckd}.teacher_channels={SMALL_TEACHER}'.replace(' ', ''),
        f'{ckd}.batch_size=4']
    train_in_process([config(method, pair, dataset), '--work-dir', work_dir,
                      '--cfg-options'] + options)
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 1
    state = ckpt['state_dict']
    selfa = [k for k in state
             if k.startswith('distiller.distill_losses.loss_ckd.')]
    assert len(selfa) == 6 * 4 + 9 * (3 + 2 * 5)  # params + BN buffers
    assert any(k.endswith('running_mean') for k in selfa)
    # SGD's momentum for every trainable parameter, SelfA's included.
    trainable = [k for k in state if not k.startswith('teacher.') and
                 not re.search(r'running_|num_batches', k)]
    assert len(ckpt['optimizer']['state']) == len(trainable)
    dumped = glob.glob(osp.join(work_dir, '*.py'))[0]
    out = export_cli.main([dumped, osp.join(work_dir, 'epoch_1.pth'),
                           '--out-dir', str(tmp_path / 'export')])
    exported = load_checkpoint_file(out['checkpoint'])['state_dict']
    assert exported and not any('loss_ckd' in k for k in exported)
    assert {f'architecture.{k}' for k in exported} == {
        k for k in state if k.startswith('architecture.')}
