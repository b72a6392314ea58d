"""Downloads of checkpoints into torch.hub's cache, all or nothing.

A URL's file lives in a folder of its own, keyed by the URL:
``<torch.hub.get_dir()>/checkpoints/dctkd_mm/<sha256(url)[:16]>/<name>``
(``<model_dir>/dctkd_mm/...`` when one is given), so a same-named file from
another host is never served for it. A download goes to a hidden
temporary name in that folder and is renamed into place only when its
length matches ``Content-Length`` and, when the name carries one
(``resnet50-0676ba61.pth``), its SHA-256 starts with the prefix the name
promises; otherwise the temporary file is deleted and one of the
:class:`CheckpointDownloadError` subclasses names the URL. ``file://``
URLs are local paths. Nothing is unpickled here:
:func:`~.checkpoint_loading.load_checkpoint_file` reads the file.
"""
import hashlib
import http.client
import os
import os.path as osp
import re
import shutil
import sys
import time
import uuid
import warnings
from typing import Optional
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlparse
from urllib.request import Request, urlopen

import torch

#: torch.hub's rule (``torch/hub.py``): the first ``-<hex>.`` in the name.
HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
#: torch.hub documents "the first eight or more digits"; a shorter match
#: (``epoch-12.pth``) is a version or a counter, not a hash, and checking
#: it would refuse ordinary files.
MIN_HASH_PREFIX = 8
#: Seconds without a byte before a connection counts as lost.
TIMEOUT_S = 60
#: A temporary file untouched this long belongs to a killed process.
_STALE_PARTIAL_S = 3600
_CHUNK = 128 * 1024  # torch.hub's READ_DATA_CHUNK
_NOTHING_CACHED = 'Nothing was written to the cache.'


class CheckpointDownloadError(OSError):
    """A checkpoint URL could not be turned into a complete, verified
    local file. ``url`` and ``path`` (the cache file, if any) are kept."""

    def __init__(self, message: str, url: Optional[str] = None,
                 path: Optional[str] = None):
        super().__init__(message)
        self.url, self.path = url, path


class DownloadConnectionError(CheckpointDownloadError):
    """No answer from the server (name lookup, refused, timeout)."""


class DownloadHTTPError(CheckpointDownloadError):
    """The server answered with an HTTP error status."""


class TruncatedDownloadError(CheckpointDownloadError):
    """The connection ended before the whole file arrived."""


class HashMismatchError(CheckpointDownloadError):
    """The file's SHA-256 does not start with the prefix in its name."""


class CachedCheckpointReadError(CheckpointDownloadError):
    """A downloaded (cached) file that later cannot be read as a
    checkpoint; raised by :func:`.checkpoint_schemes.load_from_http`."""


def is_url(source: str) -> bool:
    return source.startswith(('http://', 'https://'))


def is_file_url(source: str) -> bool:
    return source.startswith('file://')


def file_url_path(url: str) -> str:
    """The local path of a ``file://`` URL (percent-escapes decoded)."""
    parts = urlparse(url)
    if parts.netloc not in ('', 'localhost'):
        raise ValueError(f"'{url}' names the host '{parts.netloc}'; only "
                         'local file URLs (file:///absolute/path) are read.')
    return unquote(parts.path)


def expected_hash_prefix(name: str) -> Optional[str]:
    """The SHA-256 prefix a torch.hub-style file name promises, or None."""
    match = HASH_REGEX.search(name)
    if match is None or len(match.group(1)) < MIN_HASH_PREFIX:
        return None
    return match.group(1)


def _file_name(url: str) -> str:
    name = osp.basename(urlparse(url).path)
    # '..' or '' would name the key folder itself, not a file in it.
    return name if name not in ('', '.', '..') else 'checkpoint'


def _cache_root(model_dir: Optional[str]) -> str:
    return osp.expanduser(model_dir
                          or osp.join(torch.hub.get_dir(), 'checkpoints'))


def cache_path(url: str, model_dir: Optional[str] = None) -> str:
    """Where :func:`cached_download` keeps ``url``'s file."""
    key = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    return osp.join(_cache_root(model_dir), 'dctkd_mm', key, _file_name(url))


def cached_download(url: str, model_dir: Optional[str] = None,
                    progress: bool = False) -> str:
    """The local file of ``url``: a ``file://`` URL's path, or the verified
    copy in the cache (see the module docstring), downloaded if not there
    yet. Raises a :class:`CheckpointDownloadError` subclass naming the URL
    when no complete, verified file can be had; the cache is left as it
    was."""
    if is_file_url(url):
        path = file_url_path(url)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f"checkpoint '{url}' does not exist (no file '{path}').")
        return path
    dst = cache_path(url, model_dir)
    # Files here were verified when they arrived; like torch.hub, a hit is
    # not hashed again on every load.
    if osp.isfile(dst):
        return dst
    os.makedirs(osp.dirname(dst), exist_ok=True)
    _remove_stale_partials(osp.dirname(dst))
    if not _adopt_torch_hub_copy(url, dst):
        _download(url, dst, progress)
    return dst


def _partial_name(dst: str) -> str:
    # Hidden and unique: concurrent downloads of one URL never share a
    # file, and a glob for *.pth never finds half a file.
    return osp.join(osp.dirname(dst),
                    f'.{osp.basename(dst)}.{uuid.uuid4().hex}.partial')


def _remove_stale_partials(folder: str) -> None:
    now = time.time()
    for entry in os.scandir(folder):
        if entry.name.endswith('.partial') and entry.name.startswith('.'):
            try:
                if now - entry.stat().st_mtime > _STALE_PARTIAL_S:
                    os.remove(entry.path)
            except OSError:
                pass  # another process finished or removed it


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _adopt_torch_hub_copy(url: str, dst: str) -> bool:
    """Reuse torch.hub's own ``<checkpoints>/<name>`` when its hash prefix
    verifies: any code may have put a same-named file from any host there
    (``load_state_dict_from_url`` does not check hashes by default), so
    only the hash makes it this URL's file. Unverifiable names are
    downloaded again."""
    name = osp.basename(dst)
    prefix = expected_hash_prefix(name)
    legacy = osp.join(osp.dirname(osp.dirname(osp.dirname(dst))), name)
    if prefix is None or not osp.isfile(legacy):
        return False
    tmp = _partial_name(dst)
    try:
        # Hash our own link or copy, not the shared name, which another
        # process may replace meanwhile.
        try:
            os.link(legacy, tmp)
        except OSError:
            shutil.copyfile(legacy, tmp)
        digest = _sha256(tmp)
        if not digest.startswith(prefix):
            warnings.warn(f"Not using torch.hub's cached '{legacy}' for "
                          f"'{url}': its SHA-256 {digest} does not start "
                          f"with '{prefix}' as its name says; downloading.")
            return False
        os.replace(tmp, dst)
        return True
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def _download(url: str, dst: str, progress: bool) -> None:
    tmp = _partial_name(dst)
    try:
        got, expected, digest = _fetch(url, tmp, progress)
        if expected is not None and got != expected:
            raise TruncatedDownloadError(
                f"Download of checkpoint '{url}' was cut short: got {got} of "
                f'{expected} bytes (Content-Length). {_NOTHING_CACHED} Run '
                'again to retry the download.', url)
        prefix = expected_hash_prefix(osp.basename(dst))
        if prefix is not None and not digest.startswith(prefix):
            raise HashMismatchError(
                f"Checkpoint downloaded from '{url}' is not the file its "
                f"name promises: its SHA-256 is {digest}, but the name "
                f"'{osp.basename(dst)}' says it starts with '{prefix}'. "
                f'{_NOTHING_CACHED} The server (or something in between) '
                'sent another file; if the name\'s "-<hex>." part is not a '
                'SHA-256 prefix, serve the file under a name without it.',
                url)
        os.replace(tmp, dst)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def _fetch(url: str, tmp: str, progress: bool):
    """Stream ``url`` into ``tmp``: ``(bytes got, Content-Length or None,
    sha256 hex digest)``."""
    request = Request(url, headers={'User-Agent': 'dctkd_mm'})
    try:
        response = urlopen(request, timeout=TIMEOUT_S)
    except HTTPError as exc:
        raise DownloadHTTPError(
            f"Cannot download checkpoint '{url}': the server answered HTTP "
            f'{exc.code} {exc.reason}. {_NOTHING_CACHED} Check the URL.',
            url) from exc
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, 'reason', None) or exc
        raise DownloadConnectionError(
            f"Cannot download checkpoint '{url}': no answer from the server "
            f'({type(exc).__name__}: {reason}). {_NOTHING_CACHED}',
            url) from exc
    sys.stderr.write(f'Downloading: "{url}" to {osp.dirname(tmp)}\n')
    try:
        with response, open(tmp, 'xb') as f:
            return _stream(url, response, f, progress)
    except CheckpointDownloadError:
        raise
    except OSError as exc:  # the cache side: no space, no permission
        raise CheckpointDownloadError(
            f"Cannot save checkpoint '{url}' into '{osp.dirname(tmp)}': "
            f'{type(exc).__name__}: {exc}. {_NOTHING_CACHED}', url) from exc


def _stream(url: str, response, f, progress: bool):
    length = response.headers.get('Content-Length')
    expected = int(length) if length and length.isdigit() else None
    digest, got = hashlib.sha256(), 0
    with torch.hub.tqdm(total=expected, disable=not progress, unit='B',
                        unit_scale=True, unit_divisor=1024) as bar:
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                # A reset, a timeout or a cut chunked body mid-file.
                raise TruncatedDownloadError(
                    f"Download of checkpoint '{url}' was cut short: got "
                    f'{got} of {expected or "an unknown number of"} bytes '
                    f'({type(exc).__name__}: {exc}). {_NOTHING_CACHED} Run '
                    'again to retry the download.', url) from exc
            if not chunk:
                break
            f.write(chunk)
            digest.update(chunk)
            got += len(chunk)
            bar.update(len(chunk))
    return got, expected, digest.hexdigest()
