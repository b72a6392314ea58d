"""``tools/train.py``: train a dctkd_mm / MMRazor / MMPretrain config.

Same command line as MMPretrain's and MMRazor's ``tools/train.py``;
``main(argv)`` is also called in-process (the demo, the tests).
"""
import argparse
import warnings
from collections import OrderedDict

import torch
from mmengine.config import Config
from mmengine.runner import Runner as _MMEngineRunner
from mmengine.utils.dl_utils import collect_env

import dctkd_mm  # noqa: F401  (compat layer + registries)
from dctkd_mm.compat import setup_cpu_distributed
from .batch_layout import apply_batch_layout, world_size_from_env
from .cli import add_common_args, check_config_keys, set_work_dir
from .cli import parse_args as parse_args_and_rank
from .config_text import format_text_once
from .experiment_names import distinct_experiment_name


class Runner(_MMEngineRunner):
    """MMEngine's runner whose environment log, on a machine without
    CUDA, says ``Process number`` where MMEngine says ``GPU number`` (it
    counts processes, GPUs or not)."""

    def _log_env(self, env_cfg: dict) -> None:
        if torch.cuda.is_available():
            return super()._log_env(env_cfg)
        # MMEngine 0.10.7's _log_env with the one key changed.
        env = collect_env()
        runtime_env = OrderedDict()
        runtime_env.update(env_cfg)
        runtime_env.update(self._randomness_cfg)
        runtime_env['seed'] = self._seed
        runtime_env['Distributed launcher'] = self._launcher
        runtime_env['Distributed training'] = self._distributed
        runtime_env['Process number (no CUDA)'] = self._world_size
        env_info = '\n    ' + '\n    '.join(f'{k}: {v}'
                                            for k, v in env.items())
        runtime_env_info = '\n    ' + '\n    '.join(
            f'{k}: {v}' for k, v in runtime_env.items())
        dash_line = '-' * 60
        self.logger.info('\n' + dash_line + '\nSystem environment:' +
                         env_info + '\n'
                         '\nRuntime environment:' + runtime_env_info + '\n' +
                         dash_line + '\n')
        if self.cfg._cfg_dict:
            self.logger.info(f'Config:\n{self.cfg.pretty_text}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training (float16 with loss '
        'scaling on CUDA, bfloat16 autocast on CPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--keep-global-batch',
        action='store_true',
        help='keep the recipe\'s global batch (auto_scale_lr.'
        'base_batch_size) on any number of processes: the per-process '
        'batch becomes base_batch_size // (world size x optim_wrapper.'
        'accumulative_counts); the lr is unchanged')
    add_common_args(parser)
    return parse_args_and_rank(parser, argv)


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    set_work_dir(cfg, args.work_dir, args.config)

    if args.amp:
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def warn_if_buffers_unsynced(cfg, world_size: int) -> bool:
    """Warn (and return True) when ``world_size`` processes would train
    without MMEngine's ``SyncBuffersHook``: a config that replaces
    ``custom_hooks`` (a list, so a child's list replaces the base's) drops
    it, and each rank then validates and saves its own BatchNorm
    statistics."""
    if world_size <= 1:
        return False
    hooks = list(cfg.get('custom_hooks') or []) + [
        h for h in (cfg.get('default_hooks') or {}).values() if h]
    if any(isinstance(h, dict) and h.get('type') in (
            'SyncBuffersHook', 'mmengine.SyncBuffersHook') for h in hooks):
        return False
    warnings.warn(
        f'{world_size} processes will train without SyncBuffersHook: each '
        'rank keeps its own BatchNorm running statistics. The config\'s '
        "custom_hooks list replaced the base's; add dict(type="
        "'SyncBuffersHook') to it, or add hooks through default_hooks (a "
        'dict, which merges), e.g. default_hooks = dict(attention_maps='
        "dict(type='AttentionMapVisualizationHook')).", stacklevel=2)
    return True


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_config_keys(cfg, args.config)
    # Checked (and refused) before any process group or runner exists.
    layout = apply_batch_layout(
        cfg, world_size_from_env(args.launcher),
        keep_global_batch=args.keep_global_batch,
        auto_scale_lr=args.auto_scale_lr,
        cuda_available=torch.cuda.is_available())
    warn_if_buffers_unsynced(cfg, world_size_from_env(args.launcher))
    setup_cpu_distributed(cfg, args.launcher)
    distinct_experiment_name(cfg)
    runner = Runner.from_cfg(format_text_once(cfg))
    runner.logger.info(layout.describe())
    runner.train()
