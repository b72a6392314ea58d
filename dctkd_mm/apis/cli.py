"""Command-line pieces shared by tools/train.py and tools/test.py, with
MMPretrain's flags and meanings."""
import argparse
import difflib
import inspect
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import DictAction
from mmengine.runner import Runner


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (PyTorch >= 2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_args(parser: argparse.ArgumentParser,
               argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` if no launcher set it."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_work_dir(cfg, work_dir: Optional[str], config_path: str) -> None:
    """``work_dir`` priority: CLI > config file > ./work_dirs/CONFIG_NAME."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


#: Top-level keys MMEngine's runner reads besides its constructor's
#: arguments (``Runner.from_cfg`` and ``self.cfg.get`` in runner.py), and
#: those OpenMMLab configs use as variables or tools read.
_RUNNER_CFG_KEYS = (
    'model_wrapper_cfg', 'compile', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'find_unused_parameters', 'sync_bn',
    'runner_type', 'strategy', 'auto_scale_lr', 'data_preprocessor')
_CONFIG_ONLY_KEYS = (
    '_base_', 'custom_imports', 'dataset_type', 'data_root', 'num_classes',
    'train_pipeline', 'val_pipeline', 'test_pipeline', 'vis_backends',
    'backend_args', 'file_client_args', 'tta_model', 'tta_pipeline',
    'teacher_ckpt', 'norm_cfg', 'img_norm_cfg', 'bgr_mean', 'bgr_std')


class UnknownConfigKeyError(ValueError):
    """A top-level config key that nothing reads and that looks like a
    misspelt one that something does."""


def known_config_keys() -> List[str]:
    params = inspect.signature(Runner.__init__).parameters
    return sorted((set(params) - {'self', 'cfg'}) | set(_RUNNER_CFG_KEYS)
                  | set(_CONFIG_ONLY_KEYS))


def _extends_a_known_key(key: str, known: List[str]) -> bool:
    # ``authors_data_preprocessor``: a variable named after what it feeds.
    return any(
        key.startswith(f'{k}_') or key.endswith(f'_{k}') for k in known)


def check_config_keys(cfg, config_path: str) -> None:
    """Refuse a top-level key that is not one the runner reads but is
    close to one (``load_form``: MMEngine ignores unknown keys, so the run
    would silently train from scratch). Other unknown keys are the
    config's own variables (``hint_distiller = dict(...)``,
    ``authors_data_preprocessor``) and pass."""
    known = known_config_keys()
    for key in cfg.keys():
        if key in known or key.startswith('_') or _extends_a_known_key(
                key, known):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
        if close:
            raise UnknownConfigKeyError(
                f'Unknown top-level key `{key}` in {config_path} (or '
                f'--cfg-options): did you mean `{close[0]}`? MMEngine '
                'ignores keys it does not know, so this one would have no '
                f'effect. Rename it to `{close[0]}`, or, if it is a '
                'variable of your own, give it a name less like a runner '
                'setting.')
