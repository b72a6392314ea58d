"""What the converter and export tools write: never one of their own
inputs unless asked (``--force``), and never half a file."""
import os
import os.path as osp
import uuid
from typing import Iterable

import torch

from dctkd_mm.compat.downloads import (cache_path, file_url_path,
                                       is_file_url, is_url)


class OverwriteInputError(FileExistsError):
    """An output path is one of the files the tool reads."""


def local_path(source: str) -> str:
    """The file on this machine that ``source`` is read from (a URL's is
    its download cache file)."""
    if is_file_url(source):
        return file_url_path(source)
    if is_url(source):
        return cache_path(source)
    return osp.expanduser(source)


def same_file(a: str, b: str) -> bool:
    """Whether two spellings (``x.pth``, ``./x.pth``, a symlink, a hard
    link) name one file."""
    if osp.exists(a) and osp.exists(b):
        return osp.samefile(a, b)
    return osp.realpath(a) == osp.realpath(b)


def refuse_overwriting_inputs(outputs: Iterable[str], inputs: Iterable[str],
                              force: bool = False) -> None:
    """Raise :class:`OverwriteInputError` if an output would replace an
    input, unless ``force``: checked before anything is written."""
    if force:
        return
    inputs = [(i, local_path(str(i))) for i in inputs if i]
    for out in outputs:
        for given, path in inputs:
            if same_file(osp.expanduser(out), path):
                raise OverwriteInputError(
                    f"Refusing to overwrite '{given}', which this tool "
                    f"reads, with its output '{out}'. Write elsewhere, or "
                    'pass --force to replace the input (it is then written '
                    'to a temporary file first and renamed, so a failure '
                    'leaves the input intact).')


def save_atomically(obj, path: str) -> None:
    """``torch.save`` to a temporary name beside ``path``, then rename: a
    crash or a full disk never leaves a broken file at ``path`` (which,
    with ``--force``, may be the input)."""
    tmp = osp.join(osp.dirname(path) or '.',
                   f'.{osp.basename(path)}.{uuid.uuid4().hex}.partial')
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)
