"""Teacher vs student attention maps and spectra for a few demo images."""
import os
import os.path as osp
from typing import List

from .training import load_run_config


def first_val_images(data_root: str, num_images: int) -> List[str]:
    """The first validation image of each of the first ``num_images``
    classes."""
    firsts = {}
    with open(osp.join(data_root, 'places365_val.txt')) as f:
        for line in f:
            name, label = line.split()
            firsts.setdefault(int(label), name)
    return [osp.join(data_root, 'val_256', firsts[label])
            for label in sorted(firsts)[:num_images]]


def write_attention_figures(out_dir: str, data_root: str, job: dict,
                            checkpoint: str, num_images: int = 4
                            ) -> List[str]:
    """One PNG per image under ``out_dir``: the input, the teacher's and
    the student's attention map at each ResNet stage and their spectra,
    from the distillation run ``job`` with weights ``checkpoint``."""
    import mmcv
    import numpy as np
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint
    from mmrazor.registry import MODELS

    from dctkd_mm.visualization import (attention_figures, default_stage_pairs,
                                        loss_transform)
    cfg, _ = load_run_config(job['config'], job['options'],
                             job.get('loss_factors'))
    cfg.model.teacher_ckpt = None  # the checkpoint holds the teacher too
    cfg.model.architecture.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                    logger='silent')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(cfg.val_dataloader.dataset.pipeline)
    images = first_val_images(data_root, num_images)
    batch = pseudo_collate([pipeline(dict(img_path=p)) for p in images])
    with open(osp.join(data_root, 'categories_places365.txt')) as f:
        classes = [line.split()[0].rsplit('/', 1)[-1] for line in f]
    results = attention_figures(model.teacher, model.student, batch,
                                default_stage_pairs(),
                                model.data_preprocessor, classes=classes,
                                transform=loss_transform(model.distiller))
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for path, result in zip(images, results):
        png = osp.join(out_dir, osp.splitext(osp.basename(path))[0] + '.png')
        rgb = np.ascontiguousarray(result['figure'][..., ::-1])
        if not mmcv.imwrite(rgb, png):
            raise IOError(f'could not write {png}')
        written.append(png)
    return written
