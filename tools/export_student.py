"""Export the student of a distillation checkpoint as a plain MMPretrain
model: ``<out-dir>/<name>.pth`` (student weights only, no teacher,
distiller, adapter or optimizer state) and ``<out-dir>/<name>.py`` (its
MMPretrain config, with the dataset, pipeline and evaluator sections).

    python tools/export_student.py CONFIG CHECKPOINT --out-dir DIR \\
        [--name NAME]

The result works with ``mmpretrain.get_model(DIR/NAME.py,
pretrained=DIR/NAME.pth)``, ``ImageClassificationInferencer`` and
``tools/test.py DIR/NAME.py DIR/NAME.pth``.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import dctkd_mm  # noqa: E402,F401  (compat layer: safe checkpoint loading)
from dctkd_mm.apis import export_student  # noqa: E402


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
    result = export_student(cfg, args.checkpoint, args.out_dir, name)
    dropped = ', '.join(f'{k}: {v}' for k, v in result['dropped'].items())
    print(f'student: {result["num_params"]} tensors -> '
          f'{result["checkpoint"]}\nconfig -> {result["config"]}\n'
          f'dropped: {dropped or "nothing"}')
    return result


if __name__ == '__main__':
    main()
