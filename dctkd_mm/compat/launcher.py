"""Distributed training without CUDA through MMEngine's launchers.

MMEngine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device``
unconditionally (``Found no NVIDIA driver`` on a CPU machine) and its
default DDP wrapper passes ``device_ids=[LOCAL_RANK]``, which DDP rejects
for a CPU module. The runner skips its own ``init_dist`` when a process
group already exists and uses ``model_wrapper_cfg`` when one is set, so on
a machine without CUDA we start a gloo group ourselves and ask for a DDP
wrapper without ``device_ids``. Nothing changes where CUDA is available.

Without CUDA the config's ``env_cfg.dist_cfg.backend`` is set to the
backend actually used (gloo; MMEngine's default says nccl), and
:class:`dctkd_mm.apis.train_cli.Runner` logs the number of processes
instead of a "GPU number".
"""
import os

import torch
import torch.distributed as dist


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Prepare ``cfg`` for a CPU run under ``launcher``.

    Returns True if it set up CPU (gloo) distributed training, False if
    there was nothing to do (no launcher, or CUDA is available).
    """
    if torch.cuda.is_available():
        return False
    # The backend this process group uses (also what the runner logs).
    env_cfg = cfg.get('env_cfg')
    if env_cfg is not None and env_cfg.get('dist_cfg') is not None:
        env_cfg['dist_cfg']['backend'] = 'gloo'
    if launcher == 'none':
        return False
    if launcher == 'slurm':
        _export_slurm_env(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    elif launcher == 'mpi':
        os.environ.setdefault('RANK', os.environ['OMPI_COMM_WORLD_RANK'])
        os.environ.setdefault('WORLD_SIZE',
                              os.environ['OMPI_COMM_WORLD_SIZE'])
        os.environ.setdefault('LOCAL_RANK',
                              os.environ['OMPI_COMM_WORLD_LOCAL_RANK'])
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} needs the environment variables '
            f'{missing}; start the job with tools/dist_train.sh (torchrun) '
            'or your cluster launcher.')
    if not dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {}
        if timeout is not None:
            from datetime import timedelta
            kwargs['timeout'] = timedelta(seconds=timeout)
        dist.init_process_group(backend='gloo', **kwargs)
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return True


def _export_slurm_env(dist_cfg) -> None:
    """torchrun-style variables from SLURM's, as MMEngine's slurm launcher
    derives them."""
    import subprocess
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', str(dist_cfg.get('port', 29500)))
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
