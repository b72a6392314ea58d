"""Models with random weights and checkpoints shaped like real ones: the
runner's (MMEngine) and MMClassification 0.x's published ones."""
import contextlib
from typing import Iterator, Sequence
from unittest import mock

import torch


# --- models ------------------------------------------------------------------


@contextlib.contextmanager
def random_init_skipped() -> Iterator[None]:
    """Models built inside skip PyTorch's random initialisation
    (``nn.init``'s ``kaiming_uniform_``, ``uniform_`` and ``normal_``, which
    every conv and linear layer calls): for tests of what is built, not of
    its values. Their weights are left as allocated, untouched, which is
    what makes it cheap: a full-width SemCKD SelfA (~635M parameters)
    would otherwise draw for ~15 s and write 2.5 GB."""
    noop = (lambda tensor, *args, **kwargs: tensor)
    with mock.patch('torch.nn.init.kaiming_uniform_', noop), \
            mock.patch('torch.nn.init.uniform_', noop), \
            mock.patch('torch.nn.init.normal_', noop):
        yield


def build_model(cfg, seed: int = 0):
    """Build the distiller of ``cfg`` (with the top-level
    ``data_preprocessor``, as the Runner builds it) with random weights and
    non-trivial BN statistics (so exporting them matters), in eval mode."""
    import copy
    from mmengine.registry import MODELS, DefaultScope
    torch.manual_seed(seed)
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    # PyTorch's default init is random enough; init_weights only logs.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    model.eval()  # the distiller's train() returns None, not self
    return model


def student_logits(model, cfg, images, decoded=False):
    """What the student computes inside the distiller on ``images``: read
    by the config's own test pipeline, or (``decoded``) decoded as the
    Inferencer does (mmcv.imread) and put through the rest of it."""
    import mmcv
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    pipeline = cfg.test_dataloader.dataset.pipeline
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        if decoded:
            transform = Compose(pipeline[1:])
            samples = [transform(dict(img=mmcv.imread(p))) for p in images]
        else:
            transform = Compose(pipeline)
            samples = [transform(dict(img_path=p)) for p in images]
    with torch.no_grad():
        inputs = model.data_preprocessor(pseudo_collate(samples),
                                         False)['inputs']
        return model.student(inputs, mode='tensor')


def save_runner_checkpoint(model, path: str, classes: Sequence[str]) -> None:
    """A checkpoint shaped like the runner's: meta, state_dict, optimizer
    state and a message hub holding MMEngine's HistoryBuffer."""
    from mmengine.logging import HistoryBuffer
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
        dict(meta=dict(epoch=1, iter=10,
                       dataset_meta=dict(classes=tuple(classes)),
                       cfg='distillation config text'),
             state_dict=model.state_dict(),
             optimizer=optimizer.state_dict(),
             message_hub=dict(log_scalars=dict(loss=history))), path)


# --- MMClassification 0.x checkpoints --------------------------------------


def save_mmcls_checkpoint(model: torch.nn.Module, path: str,
                          classes: Sequence[str], legacy: bool = True) -> str:
    """Save ``model`` as MMClassification 0.x published it: mmcv's
    ``save_checkpoint`` dict ``{'meta', 'state_dict'}`` (``meta``: the
    runner's meta -- env_info, config text, seed, exp_name, mmcls_version,
    CLASSES, hook_msgs, epoch, iter -- plus mmcv_version and time), the
    optimizer removed by ``publish_model.py``, which writes the legacy
    (non-zip) format."""
    meta = dict(
        env_info='sys.platform: linux\nPython: 3.7.10\nPyTorch: 1.8.1',
        config="model = dict(type='ImageClassifier', ...)\n",
        seed=1234, exp_name='resnet50_b16x8_cifar10.py',
        mmcls_version='0.12.0', CLASSES=list(classes),
        hook_msgs=dict(last_ckpt='work_dirs/epoch_200.pth'),
        epoch=200, iter=78200, mmcv_version='1.3.3',
        time='Fri May 28 10:00:00 2021')
    checkpoint = dict(meta=meta, state_dict=model.state_dict())
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return path
