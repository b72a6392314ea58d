"""Downloads of checkpoints into torch.hub's cache. Nothing is unpickled
here: :func:`~.checkpoint_loading.load_checkpoint_file` reads the file."""
import os
import os.path as osp
from typing import Optional
from urllib.parse import urlparse

import torch


def is_url(source: str) -> bool:
    return source.startswith(('http://', 'https://'))


def cached_download(url: str, model_dir: Optional[str] = None,
                    progress: bool = False) -> str:
    """The local copy of ``url`` in torch.hub's cache
    (``torch.hub.get_dir()/checkpoints/<file name>``), downloaded if not
    there yet. Nothing is unpickled here."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, osp.basename(urlparse(url).path))
    if not osp.isfile(cached_file):
        # Downloads to a temporary name and renames: never half a file.
        torch.hub.download_url_to_file(url, cached_file, None,
                                       progress=progress)
    return cached_file
