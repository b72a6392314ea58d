"""``tools/visualization/visualize_attention.py``: draw teacher and student
attention maps and their spectra (in the loss's transform).

One PNG per image: for each scale (row), the teacher's and the student's
attention maps and the log magnitude of their 2-D DCT, as in
López-Cifuentes et al. 2022. Images go through the config's test pipeline
and the model's data preprocessor; the maps come from real forward passes.

From a distillation run (scales = the distiller's feature pairs)::

    python tools/visualization/visualize_attention.py IMG_OR_DIR [...] \\
        --config configs/dct_kd_r50_r18_places365.py \\
        --checkpoint work_dirs/.../epoch_70.pth --out-dir vis/

From two plain MMPretrain models (scales = backbone.layer1..4)::

    python tools/visualization/visualize_attention.py IMG_OR_DIR [...] \\
        --teacher-config T.py --teacher-checkpoint T.pth \\
        --student-config S.py --student-checkpoint S.pth --out-dir vis/
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import dctkd_mm  # noqa: F401  (compat layer + registries)
from .attention_figures import attention_figures, panels_to_arrays
from .stage_features import (DEFAULT_STAGES, default_stage_pairs,
                             loss_transform, stage_pairs_from_distiller)

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif',
                    '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw teacher/student attention maps and their spectra')
    parser.add_argument('images', nargs='+',
                        help='image files and/or directories of images')
    parser.add_argument('--out-dir', required=True, help='where PNGs go')
    parser.add_argument('--config', help='distillation config')
    parser.add_argument('--checkpoint', help='distillation checkpoint')
    parser.add_argument('--teacher-config', help='MMPretrain teacher config')
    parser.add_argument('--teacher-checkpoint', help='teacher checkpoint')
    parser.add_argument('--student-config', help='MMPretrain student config')
    parser.add_argument('--student-checkpoint', help='student checkpoint')
    parser.add_argument(
        '--stages', nargs='+',
        help='module paths drawn on both models (default: the distiller\'s '
        f'feature pairs, or {" ".join(DEFAULT_STAGES)})')
    parser.add_argument('--p', type=float, default=2,
                        help='attention map exponent (default 2)')
    parser.add_argument('--transform', default='dft_real',
                        choices=['dft_real', 'dct'],
                        help="spectrum to draw for plain models (a "
                        "distillation config's DCTAttentionLoss sets it): "
                        "'dft_real', the authors' (default), or 'dct'")
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--save-arrays', action='store_true',
                        help='also write each figure\'s arrays as .npz')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the (student) config')
    args = parser.parse_args(argv)
    distill = [args.config, args.checkpoint]
    plain = [args.teacher_config, args.teacher_checkpoint,
             args.student_config, args.student_checkpoint]
    if all(distill) and not any(plain):
        args.mode = 'distill'
    elif all(plain) and not any(distill):
        args.mode = 'plain'
    else:
        parser.error('give either --config and --checkpoint (distillation) '
                     'or all four --teacher-/--student- config/checkpoint '
                     'options (plain MMPretrain models)')
    return args


def _classes(checkpoint: dict):
    return checkpoint.get('meta', {}).get('dataset_meta', {}).get('classes')


def _test_pipeline(cfg: Config, name: str):
    for key in ('test_dataloader', 'val_dataloader'):
        pipeline = (cfg.get(key) or {}).get('dataset', {}).get('pipeline')
        if pipeline:
            return pipeline
    raise ValueError(f'{name} has no test_dataloader/val_dataloader '
                     'pipeline to prepare the images with')


def load_distillation(args, device):
    """Distiller from ``--config``, weights (teacher included) from
    ``--checkpoint``, loaded strictly."""
    from mmengine.registry import MODELS
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # The teacher's weights are in the distillation checkpoint.
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(cfg.model)
    if not all(hasattr(model, a) for a in ('teacher', 'student',
                                           'distiller')):
        raise TypeError(f'{args.config} does not build a distillation model '
                        '(teacher, student, distiller); use --teacher-config '
                        '/ --student-config for plain models')
    ckpt = load_checkpoint(model, args.checkpoint, map_location='cpu',
                           strict=True)
    model.to(device)
    pairs = (default_stage_pairs(args.stages) if args.stages else
             stage_pairs_from_distiller(model.distiller))
    return dict(teacher=model.teacher, student=model.student, pairs=pairs,
                teacher_preprocessor=model.data_preprocessor,
                student_preprocessor=model.data_preprocessor,
                pipeline=_test_pipeline(cfg, args.config),
                classes=_classes(ckpt),
                transform=loss_transform(model.distiller, args.transform))


def _load_plain(config: str, checkpoint: str, device, cfg_options=None):
    from mmpretrain import get_model
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # get_model builds as MMPretrain does (top-level data_preprocessor as
    # fallback); the weights are loaded strictly so a mismatch is an error.
    model = get_model(cfg, pretrained=False)
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu',
                           strict=True)
    return model.to(device).eval(), cfg, ckpt


def load_plain(args, device):
    """Two MMPretrain classifiers, each with its own data preprocessor; the
    student config's test pipeline prepares the images."""
    teacher, _, _ = _load_plain(args.teacher_config, args.teacher_checkpoint,
                                device)
    student, s_cfg, s_ckpt = _load_plain(
        args.student_config, args.student_checkpoint, device,
        args.cfg_options)
    return dict(teacher=teacher, student=student,
                pairs=default_stage_pairs(args.stages or DEFAULT_STAGES),
                teacher_preprocessor=teacher.data_preprocessor,
                student_preprocessor=student.data_preprocessor,
                pipeline=_test_pipeline(s_cfg, args.student_config),
                classes=_classes(s_ckpt))


def collect_images(paths):
    """Image files from files and directories (not recursive), sorted."""
    images = []
    for path in paths:
        if osp.isdir(path):
            images += sorted(
                osp.join(path, f) for f in os.listdir(path)
                if f.lower().endswith(IMAGE_EXTENSIONS))
        elif osp.isfile(path):
            images.append(path)
        else:
            raise FileNotFoundError(f'no such image or directory: {path}')
    if not images:
        raise FileNotFoundError(f'no images found in {paths}')
    return images


def output_stems(images):
    """``<stem>_attention`` per image, numbered where stems collide."""
    stems, seen = [], {}
    for path in images:
        stem = osp.splitext(osp.basename(path))[0]
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        stems.append(f'{stem}_attention' + (f'_{count}' if count else ''))
    return stems


def main(argv=None):
    args = parse_args(argv)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    loaded = (load_distillation(args, device) if args.mode == 'distill' else
              load_plain(args, device))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(loaded['pipeline'])
    images = collect_images(args.images)
    stems = output_stems(images)
    names = [pair.name for pair in loaded['pairs']]
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for start in range(0, len(images), args.batch_size):
        chunk = images[start:start + args.batch_size]
        batch = pseudo_collate([pipeline(dict(img_path=p)) for p in chunk])
        results = attention_figures(
            loaded['teacher'], loaded['student'], batch, loaded['pairs'],
            loaded['teacher_preprocessor'], loaded['student_preprocessor'],
            p=args.p, classes=loaded['classes'],
            transform=loaded.get('transform', args.transform))
        for stem, result in zip(stems[start:], results):
            png = osp.join(args.out_dir, stem + '.png')
            _write_png(png, result['figure'])
            written.append(png)
            if args.save_arrays:
                np.savez_compressed(
                    osp.join(args.out_dir, stem + '.npz'),
                    image=result['image'],
                    **panels_to_arrays(result['panels'], names))
    print(f'wrote {len(written)} figure(s) to {args.out_dir}')
    return written


def _write_png(path, rgb):
    import mmcv
    if not mmcv.imwrite(np.ascontiguousarray(rgb[..., ::-1]), path):
        raise IOError(f'could not write {path}')

