"""The demo's CPU costs (``--sections demo``): a training step of its
baseline and DCT+KD arms at the demo's default size, in the default memory
layout and in channels-last (``ChannelsLastHook``), at the default batch
and at batch 32 (the cost per image falls with the batch on a CPU), and
loading one of its images with MMCV's ``LoadImageFromFile`` and with
``CachedLoadImageFromFile`` (warm cache)."""
import copy
import os.path as osp
import tempfile
from typing import Dict

import numpy as np
import torch

from .timing import median_ms, spread, time_interleaved
from .workloads import batch_for, make_step, optim_wrapper_for

ARMS = ('baseline', 'dct+kd')
#: Batch compared with the default one, channels-last only.
SMALL_BATCH = 32


def _arm_model(name: str, settings: dict):
    from mmengine.registry import MODELS, DefaultScope

    from ..demo import training
    from ..demo.methods import DEMO_METHODS
    arm = DEMO_METHODS[name]
    # The authors' loss weights, unscaled: a weight does not change what a
    # step costs, and the demo's factors need a trained teacher.
    cfg, _ = training.load_run_config(
        arm.config_path, training.run_options(settings, '', 0, 1,
                                              arm.distills))
    cfg.model.pop('teacher_ckpt', None)  # a random teacher costs the same
    with DefaultScope.overwrite_default_scope(
            'mmrazor' if arm.distills else 'mmpretrain'):
        return MODELS.build(cfg.model)


def _step(model, batch: int, size: int, num_classes: int):
    """One training step of ``model`` on a fixed random batch, as the other
    sections time it (``workloads.make_step``)."""
    device = torch.device('cpu')
    inputs, samples = batch_for(num_classes, batch, size, device)
    return make_step(model, optim_wrapper_for(model, False, device), inputs,
                     samples)


def _loaders(directory: str, size: int) -> Dict[str, object]:
    import mmcv
    from mmcv.transforms import LoadImageFromFile

    from ..datasets.cached_loading import CachedLoadImageFromFile
    path = osp.join(directory, 'scene.png')
    rng = np.random.default_rng(0)
    mmcv.imwrite(rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                 path)
    plain, cached = LoadImageFromFile(), CachedLoadImageFromFile()
    cached(dict(img_path=path))  # warm
    return {'load image, LoadImageFromFile':
            lambda: plain(dict(img_path=path)),
            'load image, CachedLoadImageFromFile (warm)':
            lambda: cached(dict(img_path=path))}


def demo_section(warmup: int, repeats: int) -> dict:
    from ..demo.settings import parse_args, run_settings
    settings = run_settings(parse_args([]))
    batch, size = settings['batch_size'], settings['image_size']
    fns = {}
    for name in ARMS:
        model = _arm_model(name, settings)
        converted = copy.deepcopy(model).to(memory_format=torch.channels_last)
        for layout, net in (('default', model), ('channels_last', converted)):
            fns[f'{name} step, batch {batch}, {layout}'] = _step(
                net, batch, size, settings['num_classes'])
        if batch != SMALL_BATCH:
            fns[f'{name} step, batch {SMALL_BATCH}, channels_last'] = _step(
                converted, SMALL_BATCH, size, settings['num_classes'])
    with tempfile.TemporaryDirectory() as directory:
        loads = _loaders(directory, size)
        load_times = time_interleaved(
            {k: (lambda f=f: [f() for _ in range(100)]) for k, f in
             loads.items()}, torch.device('cpu'), warmup, repeats)
    times = time_interleaved(fns, torch.device('cpu'), warmup, repeats)
    rows = [dict(variant=k, ms=median_ms(v), iqr=spread(v),
                 ms_per_image=median_ms(v) / int(k.split('batch ')[1].split(
                     ',')[0])) for k, v in times.items()]
    rows += [dict(variant=k, ms=median_ms(v) / 100, iqr=spread(v),
                  ms_per_image=median_ms(v) / 100)
             for k, v in load_times.items()]
    return dict(batch=batch, size=size, width=settings['width'],
                threads=torch.get_num_threads(), rows=rows)
