"""Every config in configs/ parses and builds its model (no data, no
download) and follows the authors' recipe: schedule, batch, augmentation,
normalisation, initialisation. The zoo's losses are checked numerically in
test_zoo_losses.py.

Configs that differ only in their dataset are built once per group: the
others are checked to differ from it only in dataset fields."""
import contextlib
import copy
import glob
import os.path as osp
import re
from collections import defaultdict


import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from utils import REPO_ROOT, random_init_skipped

CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p)
ZOO = [p for p in CONFIGS if re.search(r'_1xb128-70e_\w+\.py$', p)]
DATASETS = {'places365': 365, 'ade20k': 1055, 'sun397': 397, 'mit67': 67}
AUTHORS_MEAN = [0.43216 * 255, 0.394666 * 255, 0.37645 * 255]
AUTHORS_STD = [0.22803 * 255, 0.22145 * 255, 0.216989 * 255]
IMAGENET_MEAN = [123.675, 116.28, 103.53]
DISTILL_METHODS = ('dct', 'dct-kd', 'at', 'kd', 'at-kd',
                   # issue 20: the authors' other rows
                   'pkt', 'pkt-kd', 'vid', 'vid-kd', 'crd', 'crd-kd', 'ckd',
                   'ckd-kd')


@pytest.fixture(scope='module')
def zoo_configs():
    """``get(path)``: the zoo config parsed once for the module (each is
    read by the recipe test and by its group's build test; a parse is
    ~0.1 s of CPU). The tests only read them; a build works on a copy."""
    cache = {}

    def get(path):
        if path not in cache:
            cache[path] = Config.fromfile(path)
        return cache[path]
    yield get
    cache.clear()


def _rel(path):
    return osp.relpath(path, CONFIG_DIR)


def _dataset_of(path):
    return osp.basename(path)[:-3].rsplit('_', 1)[1]


def build_model(cfg, random_init=True):
    """``cfg``'s model; ``random_init=False`` for tests of what is built,
    not of its values (``utils.random_init_skipped``)."""
    model_cfg = cfg.model.copy()
    if 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None  # the checkpoint is not here
    if model_cfg.get('_scope_') == 'mmrazor':
        from mmrazor.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    init = contextlib.nullcontext() if random_init else \
        random_init_skipped()
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')), init:
        return MODELS.build(model_cfg)


def _train_dataset(cfg):
    """The training set inside CRD's AuthorsCRDDataset wrapper (which
    adds the sample and contrast indices), or the training set."""
    dataset = cfg.train_dataloader.dataset
    if dataset.get('type') == 'AuthorsCRDDataset':
        return dataset.dataset
    return dataset


def _without_dataset(cfg):
    model = cfg.model.to_dict()
    model.pop('data_preprocessor', None)
    model.pop('teacher_ckpt', None)
    # CRD's memory bank has one row per training sample
    losses = model.get('distiller', {}).get('distill_losses', {})
    if 'loss_crd' in losses:
        losses['loss_crd'].pop('sample_n')
    for head in ([model['head']] if 'head' in model else
                 [model['architecture']['head'], model['teacher']['head']]):
        head.pop('num_classes')
    return model


def _groups():
    groups = defaultdict(list)
    for path in ZOO:
        groups[path[:-3].rsplit('_', 1)[0]].append(path)
    return sorted(groups.values())


def test_zoo_has_every_dataset_pair_and_method():
    names = {_rel(p) for p in ZOO}
    for ds in DATASETS:
        for arch in ('resnet50', 'resnet152'):
            assert f'teachers/{arch}_in1k-pre_1xb128-70e_{ds}.py' in names
        for arch in ('resnet18', 'resnet34', 'mobilenet-v2'):
            assert f'baselines/{arch}_1xb128-70e_{ds}.py' in names
        for pair in ('resnet50_resnet18', 'resnet152_resnet34',
                     'resnet50_mobilenet-v2'):
            for method in DISTILL_METHODS:
                assert (f'distill/{method}/{method}_{pair}_1xb128-70e_{ds}.py'
                        in names)
    assert len(ZOO) == 4 * (2 + 3 + 3 * len(DISTILL_METHODS))


@pytest.mark.parametrize('path', ZOO, ids=_rel)
def test_zoo_config_follows_the_recipe(path, zoo_configs):
    cfg = zoo_configs(path)
    dataset = _dataset_of(path)
    assert cfg.custom_imports.imports == ['dctkd_mm']
    assert cfg.num_classes == DATASETS[dataset]
    mean = IMAGENET_MEAN if dataset == 'places365' else AUTHORS_MEAN
    assert cfg.model.data_preprocessor.mean == pytest.approx(mean)
    if dataset != 'places365':
        assert cfg.model.data_preprocessor.std == pytest.approx(AUTHORS_STD)
    assert cfg.model.data_preprocessor.to_rgb
    # one GPU x 128, the authors' test batch of 256
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.val_dataloader.batch_size == 256
    if cfg.train_dataloader.dataset.get('type') == 'AuthorsCRDDataset':
        # CRD: the wrapper draws contrast indices over the training set
        crd = cfg.train_dataloader.dataset
        assert crd.num_classes == DATASETS[dataset]
        assert crd.neg_num == 16384
        assert crd.get('authors_indexing', True) == (dataset != 'places365')
        assert cfg.model.distiller.distill_losses.loss_crd.sample_n > 0
    assert _train_dataset(cfg).split == 'train'
    optimizer = cfg.optim_wrapper.optimizer
    teacher_run = '/teachers/' in path
    assert (optimizer.type, optimizer.momentum, optimizer.weight_decay) == \
        ('SGD', 0.9, 1e-4)
    assert optimizer.lr == (0.01 if teacher_run else 0.1)
    assert cfg.param_scheduler == dict(type='StepLR', by_epoch=True,
                                       step_size=25, gamma=0.1)
    assert cfg.train_cfg.max_epochs == 70
    assert cfg.default_hooks.checkpoint.save_best == 'auto'
    train = [(t.type, t.get('scale'), t.get('crop_size'), t.get('backend'))
             for t in _train_dataset(cfg).pipeline]
    assert train[1:4] == [('ResizeEdge', 256, None, 'pillow'),
                          ('RandomCrop', None, 224, None),
                          ('RandomFlip', None, None, None)]
    test = [(t.type, t.get('scale'), t.get('crop_size'))
            for t in cfg.val_dataloader.dataset.pipeline]
    assert test[1:3] == [('ResizeEdge', 256, None), ('CenterCrop', None, 224)]
    if '/distill/' in path:
        teacher = path.split('/')[-1].split('_')[1]
        assert cfg.model.teacher_ckpt == f'checkpoints/{teacher}_{dataset}.pth'
        assert cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'


@pytest.mark.parametrize('group', _groups(),
                         ids=lambda g: _rel(g[0]).rsplit('_', 1)[0])
def test_zoo_configs_build_once_per_dataset_group(group, zoo_configs):
    cfgs = [zoo_configs(p) for p in group]
    for cfg, path in zip(cfgs[1:], group[1:]):
        assert _without_dataset(cfg) == _without_dataset(cfgs[0]), path
    # Builders may fill in the dicts they are given: build from a copy.
    # What is built is tested, not its random values (CKD's SelfA alone
    # would draw ~635M numbers, ~15 s).
    model = build_model(copy.deepcopy(cfgs[0]), random_init=False)
    head = model.student.head if hasattr(model, 'student') else model.head
    assert head.num_classes == DATASETS[_dataset_of(group[0])]


@pytest.mark.parametrize('path', [p for p in CONFIGS if p not in ZOO],
                         ids=_rel)
def test_other_configs_build(path):
    """The flagship, its fast-teacher variant and the demo configs."""
    cfg = Config.fromfile(path)
    build_model(cfg)
    assert cfg.custom_imports.imports == ['dctkd_mm']


def test_students_start_from_torchvisions_initialisation():
    """No zero-init residual; the ResNet classifier keeps PyTorch's default
    nn.Linear init (|w| <= 1/sqrt(fan_in)); MobileNetV2 has Dropout 0.2 and
    a Normal(0, 0.01) classifier."""
    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'distill/kd/kd_resnet152_resnet34_1xb128-70e_mit67.py'))
    torch.manual_seed(0)
    student = build_model(cfg).student
    student.init_weights()
    for block in student.backbone.layer1:
        assert torch.all(block.bn2.weight == 1)  # zero-init would be 0
    weight = student.head.fc.weight
    bound = 1 / 512**0.5
    assert weight.abs().max() <= bound and weight.std() > 0.5 * bound / 3**.5

    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'baselines/mobilenet-v2_1xb128-70e_sun397.py'))
    mbv2 = build_model(cfg)
    mbv2.init_weights()
    assert mbv2.head.dropout.p == 0.2
    assert 0.008 < float(mbv2.head.fc.weight.detach().std()) < 0.012
    assert torch.all(mbv2.head.fc.bias == 0)
    mbv2.train()
    feats = (torch.ones(1000, 1280), )
    assert (mbv2.head.pre_logits(feats) == 0).float().mean() > 0.1


def test_teachers_start_from_the_authors_torchvision_imagenet_weights():
    """Teachers load torchvision's V1 ImageNet weights (the authors'
    resnet50-0676ba61 / resnet152-394f9c45) through MMEngine's
    ``torchvision://``; the *_mmpretrain-in1k-pre bases use MMPretrain's."""
    from mmengine.runner.checkpoint import get_torchvision_models
    urls = get_torchvision_models()
    for arch, digest in (('resnet50', '0676ba61'), ('resnet152', '394f9c45')):
        cfg = Config.fromfile(osp.join(
            CONFIG_DIR, f'teachers/{arch}_in1k-pre_1xb128-70e_ade20k.py'))
        init = cfg.model.backbone.init_cfg
        assert init.checkpoint == f'torchvision://{arch}'
        assert urls[arch].endswith(f'{arch}-{digest}.pth')
        assert cfg.model.head.init_cfg is None
        other = Config.fromfile(osp.join(
            CONFIG_DIR, f'_base_/models/{arch}_mmpretrain-in1k-pre.py'))
        assert other.model.backbone.init_cfg.checkpoint.startswith(
            'https://download.openmmlab.com/mmclassification/')
        assert other.model.backbone.init_cfg.prefix == 'backbone'


def test_torchvision_weights_fill_the_teacher_backbone(tmp_path):
    """torchvision's ResNet keys are MMPretrain's backbone keys: the
    teachers' ``Pretrained`` init, given the file ``torchvision://resnet50``
    downloads (here a local one of the same layout), loads every backbone
    tensor."""
    import torchvision
    from mmpretrain.registry import MODELS
    tv = torchvision.models.resnet50()
    path = str(tmp_path / 'resnet50-0676ba61.pth')
    torch.save(tv.state_dict(), path)
    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'teachers/resnet50_in1k-pre_1xb128-70e_mit67.py'))
    cfg.model.backbone.init_cfg.checkpoint = path
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        teacher = MODELS.build(cfg.model)
    teacher.init_weights()
    for key, value in teacher.backbone.state_dict().items():
        torch.testing.assert_close(value, tv.state_dict()[key], msg=key)


def test_readme_new_pair_example_builds(tmp_path):
    """The "new architecture pair" config of docs/new_pair.md is real."""
    readme = open(osp.join(REPO_ROOT, 'docs', 'new_pair.md')).read()
    section = readme.split('# A new architecture pair', 1)[1]
    code = section.split('```python\n', 1)[1].split('```', 1)[0]
    code = code.replace("'../../_base_/", repr(CONFIG_DIR + '/_base_/')[:-1])
    path = tmp_path / 'dct_resnet101_resnet18_1xb128-70e_mit67.py'
    path.write_text(code)
    cfg = Config.fromfile(str(path))
    model = build_model(cfg)
    assert model.teacher.backbone.depth == 101
    assert model.student.head.num_classes == 67
    assert cfg.model.teacher_ckpt == 'checkpoints/resnet101_mit67.pth'
    assert cfg.model.data_preprocessor.mean == pytest.approx(AUTHORS_MEAN)


def test_test_pipeline_equals_the_authors_torchvision_transform(tmp_path):
    """The zoo's test pipeline + data preprocessor give the tensor of the
    authors' ``Resize(256), CenterCrop(224), ToTensor, Normalize`` on a PIL
    image (their SceneRecognitionDataset), to float precision."""
    import numpy as np
    import torchvision.transforms as T
    from mmengine.dataset import Compose
    from mmpretrain.registry import MODELS
    from PIL import Image
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'scene.jpg')
    Image.fromarray(rng.integers(0, 256, (300, 410, 3), dtype=np.uint8)
                    ).save(path)
    cfg = Config.fromfile(osp.join(
        CONFIG_DIR, 'distill/dct/dct_resnet50_resnet18_1xb128-70e_mit67.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        packed = Compose(cfg.val_dataloader.dataset.pipeline)(
            dict(img_path=path))
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    ours = preprocessor({'inputs': [packed['inputs']]})['inputs'][0]
    authors = T.Compose([
        T.Resize(256), T.CenterCrop(224), T.ToTensor(),
        T.Normalize([0.43216, 0.394666, 0.37645], [0.22803, 0.22145, 0.216989])
    ])(Image.open(path).convert('RGB'))
    torch.testing.assert_close(ours, authors, rtol=0, atol=1e-5)


def test_flagship_is_the_zoo_dct_places365_recipe():
    """The flagship is a short name for the zoo's config: the same merged
    settings, so a change to the recipe is made in one file."""
    zoo = Config.fromfile(osp.join(
        CONFIG_DIR,
        'distill/dct/dct_resnet50_resnet18_1xb128-70e_places365.py'))
    flagship = Config.fromfile(osp.join(CONFIG_DIR,
                                        'dct_kd_r50_r18_places365.py'))
    assert flagship.to_dict() == zoo.to_dict()
    assert flagship.model.teacher_ckpt == 'checkpoints/resnet50_places365.pth'
    assert flagship.model.distiller.distill_losses.loss_dct.loss_weight == 1
