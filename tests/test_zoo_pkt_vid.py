"""The PKT, PKT + KD, VID and VID + KD cells of the authors' table (issue
20): 48 configs (3 pairs x 4 datasets per folder) that build with the
authors' wiring and train through ``tools/train.py``.

Each (method, pair) is built once, from its MIT67 config; its other
datasets' configs are checked to differ from it only in dataset fields,
and every config to share the AT (or AT + KD) config's students, teacher,
schedule and data, so the new cells differ from the zoo's only in their
distillation. One config per folder trains one step on a tiny Places365
tree in the official layout; VID's trainable parts are then checked to be
trained, checkpointed and left out of the exported student. The losses'
values and gradients against the authors' code: test_pkt_vid_losses.py.
"""
import functools
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.apis.student_export import student_state_dict
from dctkd_mm.compat import load_checkpoint_file
from utils import (REPO_ROOT, assert_checkpoints_equal, build_model,
                   make_places365_tree, read_scalars, tiny_pipelines,
                   train_in_process)

pytestmark = pytest.mark.usefixtures('restore_default_scope')

ZOO = osp.join(REPO_ROOT, 'configs', 'distill')
METHODS = ('pkt', 'pkt-kd', 'vid', 'vid-kd')
PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')
DATASETS = {'ade20k': 1055, 'sun397': 397, 'mit67': 67, 'places365': 365}
# The authors' features[1:-1] in MMPretrain names, and their channels.
VID_STUDENT = {
    'resnet': (('backbone.layer2', 128), ('backbone.layer3', 256),
               ('backbone.layer4', 512)),
    'mobilenet-v2': (('backbone.layer3', 32), ('backbone.layer5', 96),
                     ('backbone.conv2', 1280)),
}
VID_TEACHER = (('backbone.layer2', 512), ('backbone.layer3', 1024),
               ('backbone.layer4', 2048))
# log(exp(5 - 1e-5) - 1): VID's initial log-scale (variance 5).
VID_LOG_SCALE_0 = math.log(math.expm1(5.0 - 1e-5))
# Keys that set the recipe rather than the distillation.
RECIPE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg',
               'train_dataloader', 'val_dataloader', 'val_evaluator',
               'default_hooks', 'custom_imports', 'num_classes')


def zoo_config(method, pair, dataset):
    return osp.join(ZOO, method, f'{method}_{pair}_1xb128-70e_{dataset}.py')


def _kind(pair):
    return 'mobilenet-v2' if 'mobilenet' in pair else 'resnet'


def test_every_pkt_and_vid_cell_has_a_config():
    for method in METHODS:
        found = set(glob.glob(osp.join(ZOO, method, '*.py')))
        assert found == {zoo_config(method, p, d) for p in PAIRS
                         for d in DATASETS}, method


def _dataset_free(cfg):
    model = cfg.model.to_dict()
    for key in ('data_preprocessor', 'teacher_ckpt'):
        model.pop(key)
    for part in ('architecture', 'teacher'):
        model[part]['head'].pop('num_classes')
    return model


_BUILT = {}


def built(method, pair):
    """The model of the MIT67 config, random teacher, built once."""
    if (method, pair) not in _BUILT:
        from mmrazor.registry import MODELS
        cfg = Config.fromfile(zoo_config(method, pair, 'mit67'))
        cfg.model.teacher_ckpt = None  # not here; the wiring is the point
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            _BUILT[method, pair] = MODELS.build(cfg.model)
    return _BUILT[method, pair]


@functools.lru_cache(maxsize=None)
def _at_config(method, pair, dataset):
    """The AT (AT + KD) counterpart of a PKT or VID (+ KD) config."""
    return Config.fromfile(zoo_config(
        'at-kd' if method.endswith('-kd') else 'at', pair, dataset))


def _check_recipe_equals_at(method, pair, dataset, cfg):
    at = _at_config(method.replace('pkt', 'x').replace('vid', 'x'), pair,
                    dataset)
    for key in RECIPE_KEYS:
        assert cfg[key] == at[key], (dataset, key)
    ours, theirs = cfg.model.to_dict(), at.model.to_dict()
    for key in ('architecture', 'teacher', 'data_preprocessor', 'type',
                'teacher_ckpt'):
        assert ours[key] == theirs[key], (dataset, key)


def _sources(recorders):
    return {name: rec.source for name, rec in recorders.recorders.items()}


def _check_pkt(distiller):
    loss = distiller.distill_losses['loss_pkt']
    assert type(loss).__name__ == 'PKTLoss'
    assert (loss.loss_weight, loss.eps) == (30000.0, 1e-7)
    # Their features[-1]: the neck's pooled embedding, both networks.
    assert _sources(distiller.student_recorders)['embedding'] == 'neck'
    assert _sources(distiller.teacher_recorders)['embedding'] == 'neck'
    mapping = distiller.loss_forward_mappings['loss_pkt']
    assert mapping['s_feature'] == dict(recorder='embedding',
                                        from_student=True, data_idx=0)
    assert mapping['t_feature'] == dict(recorder='embedding',
                                        from_student=False, data_idx=0)


def _check_vid(distiller, kind):
    student = _sources(distiller.student_recorders)
    teacher = _sources(distiller.teacher_recorders)
    for stage, (s_src, s_ch), (t_src, t_ch) in zip(
            (2, 3, 4), VID_STUDENT[kind], VID_TEACHER):
        loss = distiller.distill_losses[f'loss_vid_s{stage}']
        assert type(loss).__name__ == 'VIDLoss'
        assert loss.loss_weight == 1.0
        # VIDLoss(s, t, t): the hidden width is the teacher's.
        widths = [(c.in_channels, c.out_channels) for c in loss.regressor
                  if isinstance(c, torch.nn.Conv2d)]
        assert widths == [(s_ch, t_ch), (t_ch, t_ch), (t_ch, t_ch)]
        torch.testing.assert_close(
            loss.log_scale.detach(), torch.full((t_ch, ), VID_LOG_SCALE_0))
        mapping = distiller.loss_forward_mappings[f'loss_vid_s{stage}']
        assert student[mapping['s_feature']['recorder']] == s_src
        assert teacher[mapping['t_feature']['recorder']] == t_src


@pytest.mark.parametrize('pair', PAIRS)
@pytest.mark.parametrize('method', METHODS)
def test_config_builds_with_the_authors_wiring(method, pair):
    cfgs = {d: Config.fromfile(zoo_config(method, pair, d))
            for d in DATASETS}
    for dataset, cfg in cfgs.items():
        assert _dataset_free(cfg) == _dataset_free(cfgs['mit67']), dataset
        assert cfg.model.architecture.head.num_classes == DATASETS[dataset]
        assert cfg.model.teacher.head.num_classes == DATASETS[dataset]
        _check_recipe_equals_at(method, pair, dataset, cfg)

    model = built(method, pair)
    distiller = model.distiller
    with_kd = method.endswith('-kd')
    names = ({'loss_pkt'} if method.startswith('pkt') else
             {'loss_vid_s2', 'loss_vid_s3', 'loss_vid_s4'})
    assert set(distiller.distill_losses) == names | (
        {'loss_kd'} if with_kd else set())
    assert model.student.head.loss_module.loss_weight == (
        0.1 if with_kd else 1.0)
    if with_kd:
        kd = distiller.distill_losses['loss_kd']
        assert (type(kd).__name__, kd.tau, kd.reduction, kd.loss_weight) \
            == ('KLDivergence', 4, 'batchmean', 1.0)
    if method.startswith('pkt'):
        _check_pkt(distiller)
        assert not list(distiller.parameters())
    else:
        _check_vid(distiller, _kind(pair))
        # Trained with the student: parameters of the algorithm (so the
        # optimizer gets them), outside the student (so exports drop them).
        own = list(distiller.parameters())
        assert own and all(p.requires_grad for p in own)
        ids = {id(p) for p in model.parameters()}
        assert all(id(p) in ids for p in own)
        student_ids = {id(p) for p in model.student.parameters()}
        assert not any(id(p) in student_ids for p in own)


# --- one step through tools/train.py ----------------------------------------

# ResNet-152 -> ResNet-34 is built and checked above and in
# test_pkt_vid_losses.py, not trained: saving its checkpoint alone would
# double this file's time.
TRAINED = (('pkt', 'resnet50_resnet18'), ('pkt-kd', 'resnet50_mobilenet-v2'),
           ('vid', 'resnet50_mobilenet-v2'), ('vid-kd', 'resnet50_resnet18'))


@pytest.fixture(scope='module')
def places365_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('places365'))
    # 4 images, batch 4: one step per epoch.
    return make_places365_tree(root, num_classes=4, per_class=1,
                               val_per_class=1, size=40)['root']


def _tiny_config(path, zoo, data_root):
    train_pipeline, test_pipeline = tiny_pipelines(32)
    loader = ('dict(batch_size=4, num_workers=0, persistent_workers=False, '
              f'dataset=dict(data_root={data_root!r}, pipeline={{}}))')
    text = f"""
_base_ = [{zoo!r}]
num_classes = 4
model = dict(architecture=dict(head=dict(num_classes=4, topk=(1, ))),
             teacher=dict(head=dict(num_classes=4, topk=(1, ))),
             teacher_ckpt=None)
train_dataloader = {loader.format(repr(train_pipeline))}
val_dataloader = {loader.format(repr(test_pipeline))}
test_dataloader = val_dataloader
val_evaluator = [dict(type='Accuracy', topk=(1, ))]
test_evaluator = val_evaluator
# No validation, one checkpoint: the step and what it saves are the point.
train_cfg = dict(max_epochs=1, val_interval=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(save_best=None))
randomness = dict(seed=0)
"""
    with open(path, 'w') as f:
        f.write(text)
    return path


@pytest.mark.parametrize('method,pair', TRAINED)
def test_one_training_step_through_tools_train(method, pair, places365_root,
                                               tmp_path):
    config = _tiny_config(str(tmp_path / 'tiny.py'),
                          zoo_config(method, pair, 'places365'),
                          places365_root)
    work_dir = str(tmp_path / 'work')
    train_in_process([config, '--work-dir', work_dir])

    logged = [r for r in read_scalars(work_dir) if 'loss' in r]
    assert len(logged) == 1  # one step
    names = ({'distill.loss_pkt'} if method.startswith('pkt') else
             {f'distill.loss_vid_s{i}' for i in (2, 3, 4)})
    if method.endswith('-kd'):
        names.add('distill.loss_kd')
    assert names | {'student.loss'} <= set(logged[0])
    assert all(math.isfinite(v) for v in logged[0].values())

    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)
    state = ckpt['state_dict']
    own = sorted(k for k in state if k.startswith('distiller.'))
    student, dropped = student_state_dict(state)
    assert not any('distill' in k for k in student)
    if method.startswith('pkt'):
        assert not own
        return
    # Checkpointed, and moved by the optimizer's one step (their initial
    # log-scale is a constant), so resume restores trained values.
    assert len(own) == 3 * 4 and dropped['distiller'] == len(own)
    for stage in (2, 3, 4):
        log_scale = state[f'distiller.distill_losses.loss_vid_s{stage}'
                          '.log_scale']
        assert not torch.allclose(log_scale,
                                  torch.full_like(log_scale,
                                                  VID_LOG_SCALE_0))
    # Momentum buffers: one per parameter that got a gradient, i.e. the
    # student's and VID's, not the frozen teacher's.
    trainable = sum(p.requires_grad
                    for p in built(method, pair).parameters())
    assert len(ckpt['optimizer']['state']) == trainable
    # What a resume loads: every key of a fresh model, VID's included.
    fresh = build_model(Config.fromfile(config))
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(
        fresh.distiller.distill_losses['loss_vid_s4'].log_scale.detach(),
        state['distiller.distill_losses.loss_vid_s4.log_scale'])


# --- a resume mid-epoch is exact with VID's state --------------------------


@pytest.fixture(scope='module')
def places365_root_8(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('places365_8'))
    # 8 images, batch 2: four steps in the epoch.
    return make_places365_tree(root, num_classes=4, per_class=2,
                               val_per_class=1, size=40)['root']


def test_vid_resumes_mid_epoch_exactly(places365_root_8, tmp_path):
    """4 iterations of one epoch, a checkpoint every 2: a run resumed from
    iter_2 ends bit-identical to the uninterrupted run (student, VID's
    regressors and log-scales, optimizer momentum, schedulers, message
    hub)."""
    config = _tiny_config(str(tmp_path / 'tiny.py'),
                          zoo_config('vid', 'resnet50_resnet18',
                                     'places365'), places365_root_8)
    options = ['--cfg-options', 'train_dataloader.batch_size=2',
               'default_hooks.checkpoint.interval=2',
               'default_hooks.checkpoint.by_epoch=False',
               'randomness.deterministic=True']
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    train_in_process([config, '--work-dir', full] + options)
    mid, end = (load_checkpoint_file(osp.join(full, f'iter_{i}.pth'))
                for i in (2, 4))
    # one epoch of four steps: iter_2 is in the middle of it
    assert mid['meta']['iter'] == 2 and end['meta']['iter'] == 4
    assert mid['meta']['epoch'] == 0
    # VID's state is checkpointed, and it moves between the two
    # checkpoints (its parameters are in the optimizer).
    vid = [k for k in mid['state_dict']
           if k.startswith('distiller.distill_losses.loss_vid_s')]
    assert len(vid) == 3 * 4
    assert not any(torch.equal(mid['state_dict'][k], end['state_dict'][k])
                   for k in vid)
    train_in_process([config, '--work-dir', resumed,
                      '--resume', osp.join(full, 'iter_2.pth')] + options)
    again = load_checkpoint_file(osp.join(resumed, 'iter_4.pth'))
    for key in ('state_dict', 'optimizer', 'param_schedulers'):
        assert_checkpoints_equal(end[key], again[key], key)
    hub = 'message_hub'
    assert_checkpoints_equal(end[hub]['runtime_info'],
                             again[hub]['runtime_info'], hub)
