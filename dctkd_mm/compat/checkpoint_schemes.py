"""MMEngine's ``CheckpointLoader`` schemes, each reading through the one
safe reader.

MMEngine 0.10.7 registers loaders for plain paths, ``http(s)://`` (which
calls ``torch.hub``'s loader, unpickling with ``weights_only=False``),
``pavi://``, ``s3://`` / ``petrel://``, ``torchvision://`` /
``modelzoo://``, ``open-mmlab://`` / ``openmmlab://`` and ``mmcls://``;
several call ``torch.load`` themselves. Here each keeps MMEngine's name
resolution (its model-zoo JSON files) and reads the file with
:func:`~.checkpoint_loading.load_checkpoint_file`. A scheme registered by
other code that we do not know is given the generic reader (MMEngine's
fileio), never left with its own ``torch.load``.
"""
import os.path as osp
from tempfile import TemporaryDirectory

import torch

from .checkpoint_loading import CheckpointReadError, load_checkpoint_file
from .downloads import CachedCheckpointReadError, cached_download


def load_from_local(filename, map_location=None):
    return load_checkpoint_file(osp.expanduser(filename), map_location)


def load_from_http(filename, map_location=None, model_dir=None,
                   progress=False):
    """Download once into the URL's own cache folder (local rank 0 first,
    as MMEngine does; see :mod:`.downloads`), then read the cached file
    safely."""
    from mmengine.dist import get_dist_info
    rank, world_size = get_dist_info()
    if rank == 0:
        cached_download(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
    cached = cached_download(filename, model_dir, progress)  # a cache hit
    try:
        # The URL as the source, so that errors name it; the reader finds
        # the same cached file (the default cache only).
        return load_checkpoint_file(filename if model_dir is None else cached,
                                    map_location)
    except CheckpointReadError as exc:
        # Not "a run killed while saving": the download was complete and
        # verified, so the server sent something else or the copy changed.
        cause = exc.__cause__ or exc.__context__ or exc
        raise CachedCheckpointReadError(
            f"Cannot read the checkpoint downloaded from '{filename}' "
            f"(cached as '{cached}'): the download was complete, but the "
            'file is not a readable PyTorch checkpoint: the server may have '
            'sent another kind of file (an error page), or the cached copy '
            f'has changed since. Delete {cached} to download it again. '
            f'({type(cause).__name__}: {cause})', filename, cached) from exc


def load_from_backend(filename, map_location=None):
    """``s3://``, ``petrel://`` and any other fileio URI: read the bytes
    through MMEngine's fileio, unpickle safely."""
    backend_args = None
    if 's3://' in filename or 'petrel://' in filename:
        backend_args = {'backend': 'petrel'}  # what MMEngine's loader uses
    return load_checkpoint_file(filename, map_location, backend_args)


def load_from_pavi(filename, map_location=None):
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.')
    model = modelcloud.get(filename[len('pavi://'):])
    with TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, model.name)
        model.download(downloaded)
        return load_checkpoint_file(downloaded, map_location)


def load_from_torchvision(filename, map_location=None):
    from mmengine.runner.checkpoint import get_torchvision_models
    name = filename.split('://', 1)[1]
    urls = get_torchvision_models()
    if name not in urls:
        raise KeyError(f"'{filename}': no torchvision model named '{name}'")
    return load_from_http(urls[name], map_location)


def load_from_openmmlab(filename, map_location=None):
    from mmengine.runner.checkpoint import (_get_mmengine_home,
                                            get_deprecated_model_names,
                                            get_external_models)
    name = filename.split('://', 1)[1]
    name = get_deprecated_model_names().get(name, name)
    urls = get_external_models()
    if name not in urls:
        raise KeyError(f"'{filename}': no OpenMMLab model named '{name}'")
    url = urls[name]
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location)
    return load_checkpoint_file(
        osp.join(_get_mmengine_home(), url), map_location)


def load_from_mmcls(filename, map_location=None):
    from mmengine.runner.checkpoint import (_process_mmcls_checkpoint,
                                            get_mmcls_models)
    name = filename[len('mmcls://'):]
    urls = get_mmcls_models()
    if name not in urls:
        raise KeyError(f"'{filename}': no mmcls model named '{name}'")
    return _process_mmcls_checkpoint(load_from_http(urls[name], map_location))


#: MMEngine 0.10.7's prefixes -> our loader.
SAFE_SCHEMES = {
    '': load_from_local,
    'http://': load_from_http,
    'https://': load_from_http,
    'pavi://': load_from_pavi,
    r'(\S+\:)?s3://': load_from_backend,
    r'(\S+\:)?petrel://': load_from_backend,
    'modelzoo://': load_from_torchvision,
    'torchvision://': load_from_torchvision,
    'open-mmlab://': load_from_openmmlab,
    'openmmlab://': load_from_openmmlab,
    'mmcls://': load_from_mmcls,
}


def register_safe_schemes() -> None:
    """Make every registered prefix read safely (idempotent)."""
    # Import first: mmengine registers its own schemes at import time and
    # would refuse to once ours are there.
    from mmengine.runner.checkpoint import CheckpointLoader
    loaders = dict(SAFE_SCHEMES)
    for prefix in list(CheckpointLoader._schemes):
        loaders.setdefault(prefix, load_from_backend)
    for prefix, loader in loaders.items():
        CheckpointLoader.register_scheme(prefix, loader, force=True)
