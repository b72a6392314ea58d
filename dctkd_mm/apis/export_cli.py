"""``tools/model_converters/export_student.py``: export the student of a
distillation checkpoint as a plain MMPretrain model: ``<out-dir>/<name>.pth``
(student weights only, no teacher, distiller, adapter or optimizer state)
and ``<out-dir>/<name>.py`` (its MMPretrain config, with the dataset,
pipeline and evaluator sections, every type one MMPretrain builds; our
datasets as ``CustomDataset`` on ``<out-dir>/<name>_<split>.txt``, see
``dctkd_mm.apis.plain_config``).

    python tools/model_converters/export_student.py CONFIG CHECKPOINT \\
        --out-dir DIR [--name NAME] [--no-data] [--force]

The result works in a process that imports neither dctkd_mm nor MMRazor:
``mmpretrain.get_model(DIR/NAME.py, pretrained=DIR/NAME.pth)``,
``ImageClassificationInferencer`` and MMPretrain's ``tools/test.py
DIR/NAME.py DIR/NAME.pth`` (ours too).
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

import dctkd_mm  # noqa: F401  (compat layer: safe checkpoint loading)
from .student_export import export_student


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export the student of a distillation checkpoint')
    parser.add_argument('config', help='distillation config')
    parser.add_argument('checkpoint', help='distillation checkpoint')
    parser.add_argument('--out-dir', required=True,
                        help='where NAME.pth and NAME.py are written')
    parser.add_argument('--name', default=None,
                        help='output file name without extension '
                        '(default: <config name>_student)')
    parser.add_argument(
        '--no-data', action='store_true',
        help='do not read the datasets (to list their images for '
        'MMPretrain\'s CustomDataset); the config then keeps only a lazy '
        'test dataset with the test pipeline: enough for get_model, '
        'get_flops and ImageClassificationInferencer, not for tools/test.py')
    parser.add_argument(
        '--force', action='store_true',
        help='allow NAME.pth / NAME.py to replace the source checkpoint or '
        'config (refused otherwise)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the distillation config '
                        'before export')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    name = args.name or (
        osp.splitext(osp.basename(args.config))[0] + '_student')
    result = export_student(cfg, args.checkpoint, args.out_dir, name,
                            with_data=not args.no_data, force=args.force)
    dropped = ', '.join(f'{k}: {v}' for k, v in result['dropped'].items())
    print(f'student: {result["num_params"]} tensors -> '
          f'{result["checkpoint"]}\nconfig -> {result["config"]}\n'
          f'dropped: {dropped or "nothing"}\n'
          f'config entries dropped: '
          f'{", ".join(result["dropped_config"]) or "none"}')
    return result

