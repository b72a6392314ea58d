"""A tiny version of the flagship distillation setup for the visualisation
and export tests: the real config and models, few classes, small images.

Import as ``from tiny_distill import ...`` (``tests/`` is on ``sys.path``).
"""
import copy
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import HistoryBuffer
from mmengine.registry import DefaultScope

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FLAGSHIP = osp.join(REPO_ROOT, 'configs', 'dct_kd_r50_r18_places365.py')
NUM_CLASSES = 5
CLASSES = tuple(f'class_{i}' for i in range(NUM_CLASSES))
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=48, edge='short'),
    dict(type='CenterCrop', crop_size=40),
    dict(type='PackInputs'),
]
TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=48, edge='short'),
    dict(type='RandomCrop', crop_size=40),
    dict(type='PackInputs'),
]


@pytest.fixture(autouse=True)
def restore_default_scope():
    """Runners and inferencers leave their default scope set for the rest
    of the process; undo that so later tests build from the registry they
    name. (Import this fixture into a test module to use it.)"""
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


def write_image_tree(root: str, per_class: int = 2, size=(52, 44),
                     seed: int = 0) -> list:
    """``root/class_k/img_j.png`` (MMPretrain ``CustomDataset`` layout);
    returns the paths. Non-square so the resize/crop really acts."""
    import mmcv
    rng = np.random.default_rng(seed)
    paths = []
    for label, name in enumerate(CLASSES):
        for j in range(per_class):
            image = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            image[..., label % 3] //= 2  # a little class signal
            path = osp.join(root, name, f'img_{j}.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            assert mmcv.imwrite(image, path)
            paths.append(path)
    return paths


def _dataset(data_root: str, pipeline) -> ConfigDict:
    return ConfigDict(type='CustomDataset', data_root=data_root,
                      pipeline=pipeline)


def tiny_config(data_root: str = None, adapter: bool = False) -> Config:
    """The flagship config with ``NUM_CLASSES`` classes, no teacher
    checkpoint and, given ``data_root``, tiny CustomDataset loaders.

    ``adapter=True`` puts an ``ActivationMapAdapter`` on the teacher side of
    the layer4 loss, so the distiller holds trainable weights of its own.
    """
    cfg = Config.fromfile(FLAGSHIP)
    cfg.model.architecture.head.num_classes = NUM_CLASSES
    cfg.model.teacher.head.num_classes = NUM_CLASSES
    cfg.model.teacher_ckpt = None
    if adapter:
        cfg.model.distiller.connectors = dict(
            t_adapt4=dict(type='ActivationMapAdapter', in_channels=2048))
        cfg.model.distiller.loss_forward_mappings.loss_dct_s4.t_feature = \
            dict(recorder='layer4', from_student=False, connector='t_adapt4')
    if data_root is not None:
        cfg.train_dataloader = ConfigDict(
            batch_size=2, num_workers=0,
            dataset=_dataset(data_root, TRAIN_PIPELINE),
            sampler=dict(type='DefaultSampler', shuffle=True))
        cfg.val_dataloader = ConfigDict(
            batch_size=4, num_workers=0,
            dataset=_dataset(data_root, TEST_PIPELINE),
            sampler=dict(type='DefaultSampler', shuffle=False))
        cfg.test_dataloader = cfg.val_dataloader
    return cfg


def build_model(cfg: Config, seed: int = 0):
    """Build the distiller with random weights and non-trivial BN
    statistics (so exporting them matters), in eval mode."""
    from mmengine.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    # PyTorch's default init is random enough; init_weights only logs.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    model.eval()  # the distiller's train() returns None, not self
    return model


def save_runner_checkpoint(model, path: str) -> None:
    """A checkpoint shaped like the runner's: meta, state_dict, optimizer
    state and a message hub holding MMEngine's HistoryBuffer."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    model.train()
    loss = sum(p.sum() for p in params[:3])
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    model.eval()
    history = HistoryBuffer()
    history.update(1.5)
    torch.save(
        dict(meta=dict(epoch=1, iter=10, dataset_meta=dict(classes=CLASSES),
                       cfg='distillation config text'),
             state_dict=model.state_dict(),
             optimizer=optimizer.state_dict(),
             message_hub=dict(log_scalars=dict(loss=history))), path)
