"""Every new cell of issue 20 trains (its "Done when" item 1).

Each config of ``configs/distill/{pkt,pkt-kd,vid,vid-kd,crd,crd-kd,ckd,
ckd-kd}/`` (8 methods x 3 pairs x 4 datasets = 96 files) runs one
optimisation step through ``tools/train.py``'s ``main`` in this process
(test_zoo_pkt_vid.py, test_zoo_crd.py and test_zoo_ckd.py run the entry
point itself), on a tiny tree in its own dataset's official layout
(Places365, ADE20K scenes, SUN397, MIT Indoor 67) that names all of the
dataset's classes, so the configs' heads (365, 1055, 397, 67 classes),
students, teacher and distiller are used as they are. The teacher is
loaded from a checkpoint in the format the configs load (the runner
checkpoint of its ``configs/teachers/`` run: ``meta`` + ``state_dict``),
written once per (teacher, dataset) for the whole file.

Only these change (``--cfg-options``): the data root, the train loader
(batch 4, no workers), 32 px crops from the configs' own pipelines, one
epoch, no validation (``--no-validate``), the teacher checkpoint path,
the sizes tied to the data (CRD's memory bank ``sample_n``: one row per
training sample; SemCKD's ``batch_size``: the train batch), a log line per
iteration and no checkpoint file (the other zoo tests check those; here
saving the frozen teacher again would cost more than the step). After the
step, the one logged record has a finite value for the student's loss and
for every ``distill_losses`` term the run's (dumped) config declares,
nothing else called a loss, and their sum as the total.

By default 49 of the 96 cells run (~80 s of CPU, see ``DEFAULT``); set
``DCTKD_TRAIN_EVERY_CELL=1`` to run all 96 (~11 min of CPU more, 9.4 GB
of memory at the CKD cells).
"""
import gc
import glob
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import dctkd_mm  # noqa: F401
from utils import (REPO_ROOT, read_scalars, train_in_process,
                   write_tree_file)

pytestmark = pytest.mark.usefixtures('restore_default_scope')

ZOO = osp.join(REPO_ROOT, 'configs', 'distill')
METHODS = ('pkt', 'pkt-kd', 'vid', 'vid-kd', 'crd', 'crd-kd', 'ckd',
           'ckd-kd')
PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')
#: The configs' class counts (every class of the official files).
DATASETS = {'places365': 365, 'ade20k': 1055, 'sun397': 397, 'mit67': 67}
BATCH = 4  # SemCKD's SelfA takes no batch under its factor 4
CROP = 32  # ResNet / MobileNetV2 stride: a 1 x 1 last stage


def zoo_config(method, pair, dataset):
    return osp.join(ZOO, method, f'{method}_{pair}_1xb128-70e_{dataset}.py')


CELLS = [(m, p, d) for m in METHODS for p in PAIRS for d in DATASETS]


def test_the_cells_are_every_config_of_the_eight_folders():
    found = {f for m in METHODS for f in glob.glob(osp.join(ZOO, m, '*.py'))}
    assert found == {zoo_config(*cell) for cell in CELLS}
    assert len(found) == 96


# --- tiny trees in the official layouts, all classes named --------------


def _images(paths):
    for path in paths:
        write_tree_file(path)


def make_places365(root):
    """categories_places365.txt with 365 classes; BATCH training images of
    BATCH classes (``data_256/``), 2 val images (``val_256/``)."""
    names = [f'/{chr(97 + i % 26)}/class_{i:03d}' for i in range(365)]
    names[1] = '/b/bakery/shop'  # the multi-level case
    train = [(f'{names[i]}/{i + 1:08d}.jpg', i) for i in range(BATCH)]
    val = [(f'Places365_val_{i + 1:08d}.jpg', i) for i in range(2)]
    write_tree_file(root / 'categories_places365.txt',
                    ''.join(f'{n} {i}\n' for i, n in enumerate(names)))
    write_tree_file(root / 'places365_train_standard.txt',
                    ''.join(f'{p} {c}\n' for p, c in train))
    write_tree_file(root / 'places365_val.txt',
                    ''.join(f'{p} {c}\n' for p, c in val))
    _images([root / 'data_256' / p.lstrip('/') for p, _ in train] +
            [root / 'val_256' / p for p, _ in val])
    return 365


def make_ade20k(root):
    """sceneCategories.txt naming 1,055 scenes: BATCH training images,
    one validation image of every scene."""
    scenes = [f'scene_{i:04d}' for i in range(1055)]
    lines = [(f'ADE_train_{i + 1:08d}', scenes[i]) for i in range(BATCH)]
    lines += [(f'ADE_val_{i + 1:08d}', s) for i, s in enumerate(scenes)]
    write_tree_file(root / 'sceneCategories.txt',
                    ''.join(f'{n} {c}\n' for n, c in lines))
    _images(root / 'images' / ('training' if 'train' in n else
                               'validation') / f'{n}.jpg' for n, _ in lines)
    return 1055


def make_sun397(root):
    """MMPretrain's SUN397 layout: ``SUN397/<letter>/<class>/*.jpg`` and
    the ``Partitions/`` lists (its 397 classes are fixed; ClassName.txt is
    written for the layout, MMPretrain does not read it)."""
    from mmpretrain.datasets.categories import SUN397_CATEGORIES
    names = [f'/{c[0]}/{c}' for c in SUN397_CATEGORIES]
    train = [f'{names[i]}/sun_train{i}.jpg' for i in range(BATCH)]
    test = [f'{names[-1]}/sun_test.jpg']
    write_tree_file(root / 'Partitions' / 'ClassName.txt',
                    '\n'.join(names) + '\n')
    write_tree_file(root / 'Partitions' / 'Training_01.txt',
                    '\n'.join(train) + '\n')
    write_tree_file(root / 'Partitions' / 'Testing_01.txt',
                    '\n'.join(test) + '\n')
    _images(root / 'SUN397' / p.lstrip('/') for p in train + test)
    return 397


def make_mit67(root):
    """TrainImages.txt / TestImages.txt naming 67 classes, each with its
    ``Images/`` directory: BATCH training images, one test image per
    class."""
    classes = [f'class_{i:02d}' for i in range(67)]
    train = [f'{c}/tr_{c}.jpg' for c in classes[:BATCH]]
    test = [f'{c}/te_{c}.jpg' for c in classes]
    write_tree_file(root / 'TrainImages.txt', '\n'.join(train) + '\n')
    write_tree_file(root / 'TestImages.txt', '\n'.join(test) + '\n')
    _images(root / 'Images' / p for p in train + test)
    return 67


MAKERS = dict(places365=make_places365, ade20k=make_ade20k,
              sun397=make_sun397, mit67=make_mit67)


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    out = {}
    for dataset, make in MAKERS.items():
        root = tmp_path_factory.mktemp(dataset)
        assert make(root) == DATASETS[dataset]
        out[dataset] = str(root)
    return out


# --- teacher checkpoints: one file per (teacher, dataset) ----------------


def _teacher_checkpoint(path, teacher_cfg, num_classes):
    """The teacher's weights as its configs/teachers/ run saves them
    (MMEngine's runner checkpoint: ``meta`` + ``state_dict``), random but
    with non-trivial BatchNorm statistics."""
    from mmpretrain.registry import MODELS
    teacher_cfg = teacher_cfg.copy()
    teacher_cfg.head.num_classes = num_classes
    torch.manual_seed(0)
    model = MODELS.build(teacher_cfg)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_var.uniform_(0.5, 1.5)
    torch.save(dict(meta=dict(epoch=70, iter=70),
                    state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory):
    """``get(config, depth, dataset)``: the path of the teacher checkpoint
    for ``dataset``'s classes, written on first use, removed at the end."""
    folder = tmp_path_factory.mktemp('teachers')
    cache = {}

    def get(config, depth, dataset):
        if (depth, dataset) not in cache:
            teacher = Config.fromfile(config).model.teacher
            assert teacher.backbone.depth == depth
            cache[depth, dataset] = _teacher_checkpoint(
                str(folder / f'resnet{depth}_{dataset}.pth'), teacher,
                DATASETS[dataset])
        return cache[depth, dataset]
    yield get
    for path in cache.values():  # 100 MB (ResNet-50) or 240 MB each
        os.remove(path)


# --- one step ------------------------------------------------------------


def _distill_losses(method):
    names = {'pkt': ['loss_pkt'], 'crd': ['loss_crd'], 'ckd': ['loss_ckd'],
             'vid': [f'loss_vid_s{i}' for i in (2, 3, 4)]}[method[:3]]
    return set(names + ['loss_kd'] * method.endswith('-kd'))


def _train_options(method, root, teacher_ckpt):
    inner = 'train_dataloader.dataset'
    opts = [f'train_dataloader.batch_size={BATCH}',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=1', f'model.teacher_ckpt={teacher_ckpt}',
            'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=-1',
            'default_hooks.checkpoint.save_last=False',
            'default_hooks.checkpoint.save_best=None']
    losses = 'model.distiller.distill_losses'
    if method.startswith('crd'):  # the AuthorsCRDDataset wrapper
        inner += '.dataset'
        opts.append(f'{losses}.loss_crd.sample_n={BATCH}')
    if method.startswith('ckd'):
        opts.append(f'{losses}.loss_ckd.batch_size={BATCH}')
    # The zoo's pipelines: load, ResizeEdge (short edge), RandomCrop, ...
    opts += [f'{inner}.data_root={root}',
             f'{inner}.pipeline.1.scale={CROP * 9 // 8}',
             f'{inner}.pipeline.2.crop_size={CROP}']
    return opts


def _one_step(method, pair, dataset, roots, teacher_ckpts, work_dir):
    config = zoo_config(method, pair, dataset)
    depth = 152 if pair.startswith('resnet152') else 50
    ckpt = teacher_ckpts(config, depth, dataset)
    train_in_process([config, '--work-dir', work_dir, '--no-validate',
                      '--cfg-options'] +
                     _train_options(method, roots[dataset], ckpt))
    # The config the run used (dumped by the runner) declares the terms.
    used = Config.fromfile(glob.glob(osp.join(work_dir, '*.py'))[0])
    declared = set(used.model.distiller.distill_losses)
    assert declared == _distill_losses(method)
    assert used.model.teacher_ckpt == ckpt
    assert used.model.architecture.head.num_classes == DATASETS[dataset]
    logged = [r for r in read_scalars(work_dir) if 'loss' in r]
    assert [r['step'] for r in logged] == [1]  # one optimisation step
    terms = {f'distill.{n}' for n in declared} | {'student.loss'}
    assert {k for k in logged[0] if 'loss' in k} == terms | {'loss'}
    values = {k: logged[0][k] for k in terms | {'loss'}}
    assert all(math.isfinite(v) for v in values.values()), values
    assert values['loss'] == pytest.approx(
        sum(values[k] for k in terms), rel=1e-4, abs=1e-4)
    return values


#: Cells of the default run (~1.5 s of CPU each, ~80 s for the file):
#: every PKT, VID and CRD cell (with and without KD) of the two ResNet-50
#: teachers, and one ResNet-152 cell. Opt-in (EVERY_CELL=1): the other 23
#: ResNet-152 cells (~2.5 s each, plus ~2 s per dataset to write its
#: 240 MB teacher checkpoint) and the 24 CKD cells (~23 s of CPU and a
#: 9.4 GB peak each: SemCKD's SelfA at the configs' widths holds ~635M
#: parameters, whose random init and SGD step are the cost).
DEFAULT = {c for c in CELLS if c[0][:3] != 'ckd' and c[1] != PAIRS[1]} | {
    ('vid-kd', PAIRS[1], 'mit67')}
EVERY_CELL = 'DCTKD_TRAIN_EVERY_CELL'


def _cell(method, pair, dataset):
    marks = [] if (method, pair, dataset) in DEFAULT else [
        pytest.mark.skipif(not os.environ.get(EVERY_CELL),
                           reason=f'opt-in: {EVERY_CELL}=1 (see DEFAULT)')]
    return pytest.param(method, pair, dataset, marks=marks)


def test_the_default_cells_cover_every_method_and_dataset():
    assert len(DEFAULT) == 49
    assert {(m, d) for m, _, d in DEFAULT} == {
        (m, d) for m in METHODS if not m.startswith('ckd') for d in DATASETS}


@pytest.mark.parametrize('method,pair,dataset', [_cell(*c) for c in CELLS])
def test_one_step(method, pair, dataset, roots, teacher_ckpts, tmp_path):
    try:
        _one_step(method, pair, dataset, roots, teacher_ckpts,
                  str(tmp_path / 'work'))
    finally:
        # The run's model before the next one's (9 GB for a CKD cell);
        # cheap with the earlier objects frozen (tests/conftest.py).
        gc.collect()
