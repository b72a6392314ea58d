"""Issue 17, F10 and "Downloads are not hash-checked": a checkpoint URL
becomes a complete, verified file in its own cache folder, or nothing.

Every URL is served by a real ``http.server`` on 127.0.0.1 in a daemon
thread (shut down after each test, and by a timer whatever happens), and
read through the real entry points: ``load_checkpoint_file``, MMEngine's
``CheckpointLoader`` (what ``load_from``, ``--resume`` and
``teacher_ckpt`` use) and an ``init_cfg=dict(type='Pretrained')``.
"""
import hashlib
import io
import os
import os.path as osp
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

import dctkd_mm  # noqa: F401  (registers the safe loaders)
from dctkd_mm.compat import load_checkpoint_file
from dctkd_mm.compat.checkpoint_schemes import load_from_http
from dctkd_mm.compat.downloads import (CachedCheckpointReadError,
                                       DownloadConnectionError,
                                       DownloadHTTPError, HashMismatchError,
                                       TruncatedDownloadError, cache_path)
from utils import free_port

ENTRY_POINTS = {
    'load_checkpoint_file': load_checkpoint_file,
    'CheckpointLoader': lambda url: CheckpointLoader.load_checkpoint(
        url, map_location='cpu'),
}


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path]``: a list of bodies, the first ones
    used once each; a ``('cut', body)`` announces the whole body's length
    and sends half of it before closing."""

    def do_GET(self):
        self.server.requests.append(self.path)
        plan = self.server.routes.get(self.path)
        if not plan:
            self.send_error(404)
            return
        body = plan.pop(0) if len(plan) > 1 else plan[0]
        cut = isinstance(body, tuple)
        body = body[1] if cut else body
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if cut else body)

    def log_message(self, *args):
        pass


class FileServer:

    def __init__(self):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.routes, self.httpd.requests = {}, []
        self.requests = self.httpd.requests
        threading.Thread(target=self.httpd.serve_forever,
                         kwargs=dict(poll_interval=0.05), daemon=True).start()
        self.timer = threading.Timer(300, self.httpd.shutdown)
        self.timer.daemon = True
        self.timer.start()

    def serve(self, path, *bodies) -> str:
        self.httpd.routes[path] = list(bodies)
        return f'http://127.0.0.1:{self.httpd.server_port}{path}'

    def stop(self):
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """torch.hub's checkpoint folder under a fresh TORCH_HOME."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


@pytest.fixture
def server(hub_cache):
    served = FileServer()
    yield served
    served.stop()


def checkpoint_bytes(**tensors) -> bytes:
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def cached_files(hub_cache):
    """Every file under the cache, hidden temporary ones included."""
    return sorted(osp.relpath(osp.join(d, f), hub_cache)
                  for d, _, files in os.walk(hub_cache) for f in files)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_cut_download_is_not_cached_and_the_next_run_succeeds(
        server, hub_cache, entry):
    """F10: the server announces the whole length, sends half and closes.
    torch.hub's downloader keeps that half; here it is refused, naming the
    URL and both sizes, and the next try downloads the file again."""
    body = checkpoint_bytes(w=torch.arange(50_000.))
    url = server.serve('/models/weights.pth', ('cut', body), body)
    load = ENTRY_POINTS[entry]
    with pytest.raises(TruncatedDownloadError) as info:
        load(url)
    message = str(info.value)
    assert url in message and f'{len(body) // 2} of {len(body)} bytes' \
        in message, message
    assert 'resume' not in message
    assert cached_files(hub_cache) == []
    assert torch.equal(load(url)['w'], torch.arange(50_000.))
    assert len(server.requests) == 2
    assert cached_files(hub_cache) == [osp.relpath(cache_path(url),
                                                   hub_cache)]


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_wrong_hash_prefix_is_refused_and_not_cached(server, hub_cache,
                                                     entry):
    """A torch.hub-style name promises the file's SHA-256 prefix: another
    file under that name is refused, with both hashes; the right one
    loads."""
    body = checkpoint_bytes(w=torch.ones(3))
    wrong = 'deadbeef' if not sha256(body).startswith('deadbeef') else 'a' * 8
    url = server.serve(f'/zoo/resnet-{wrong}.pth', body)
    with pytest.raises(HashMismatchError) as info:
        ENTRY_POINTS[entry](url)
    message = str(info.value)
    assert url in message and wrong in message and sha256(body) in message
    assert cached_files(hub_cache) == []

    good = server.serve(f'/zoo/resnet-{sha256(body)[:8]}.pth', body)
    assert torch.equal(ENTRY_POINTS[entry](good)['w'], torch.ones(3))


def test_same_name_from_two_hosts_gives_each_url_its_file(hub_cache):
    """The cache is keyed by URL: two hosts serving different files under
    one name, each used by the ``init_cfg=Pretrained`` of an MMPretrain
    classifier, each model gets its own host's weights."""
    from mmpretrain.registry import MODELS
    lenet = dict(type='ImageClassifier',
                 backbone=dict(type='LeNet5', num_classes=3))
    hosts, urls, weights = [FileServer(), FileServer()], [], []
    try:
        for seed, host in enumerate(hosts):
            torch.manual_seed(seed)
            state = {k: torch.randn(v.shape)
                     for k, v in MODELS.build(lenet).state_dict().items()}
            weights.append(state)
            urls.append(host.serve('/w/lenet.pth',
                                   checkpoint_bytes(state_dict=state)))
        for url, state in zip(urls, weights):
            model = MODELS.build(dict(
                lenet, init_cfg=dict(type='Pretrained', checkpoint=url)))
            model.init_weights()
            for key, value in model.state_dict().items():
                assert torch.equal(value, state[key]), (url, key)
    finally:
        for host in hosts:
            host.stop()
    assert cache_path(urls[0]) != cache_path(urls[1])
    assert osp.basename(cache_path(urls[0])) == 'lenet.pth'
    assert len(cached_files(hub_cache)) == 2


def test_torch_hub_cached_file_is_reused_only_if_its_hash_verifies(
        server, hub_cache):
    """torch.hub's own ``checkpoints/<name>`` may hold a same-named file
    from any host: it is reused (without a request) only when the hash in
    its name verifies; otherwise, or without a hash in the name, the URL
    is downloaded."""
    genuine = checkpoint_bytes(w=torch.full((2, ), 7.))
    other = checkpoint_bytes(w=torch.zeros(2))
    hub_cache.mkdir(parents=True)
    hashed = f'net-{sha256(genuine)[:10]}.pth'
    (hub_cache / hashed).write_bytes(genuine)
    url = server.serve(f'/{hashed}', genuine)
    assert torch.equal(load_checkpoint_file(url)['w'], torch.full((2, ), 7.))
    assert server.requests == []

    bad = f'net-{sha256(other)[:8]}.pth'
    (hub_cache / bad).write_bytes(genuine)  # name promises `other`
    (hub_cache / 'plain.pth').write_bytes(genuine)
    url = server.serve(f'/{bad}', other)
    with pytest.warns(UserWarning, match='does not start with'):
        assert torch.equal(load_checkpoint_file(url)['w'], torch.zeros(2))
    url = server.serve('/plain.pth', other)
    assert torch.equal(load_checkpoint_file(url)['w'], torch.zeros(2))
    assert server.requests == [f'/{bad}', '/plain.pth']


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_file_url_is_read_in_place(tmp_path, hub_cache, entry):
    path = tmp_path / 'my dir' / 'local weights.pth'
    path.parent.mkdir()
    path.write_bytes(checkpoint_bytes(w=torch.arange(4)))
    url = 'file://' + quote(str(path))
    assert '%20' in url
    assert torch.equal(ENTRY_POINTS[entry](url)['w'], torch.arange(4))
    assert not osp.exists(hub_cache)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        ENTRY_POINTS[entry]('file://' + str(tmp_path / 'missing.pth'))


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_http_error_and_no_server_have_their_own_messages(
        server, hub_cache, entry):
    missing = server.serve('/nothing/here.pth')
    with pytest.raises(DownloadHTTPError) as info:
        ENTRY_POINTS[entry](missing)
    assert missing in str(info.value) and 'HTTP 404' in str(info.value)
    nobody = f'http://127.0.0.1:{free_port()}/x.pth'
    with pytest.raises(DownloadConnectionError) as info:
        ENTRY_POINTS[entry](nobody)
    assert nobody in str(info.value) and 'no answer' in str(info.value)
    assert cached_files(hub_cache) == []


def test_cached_file_that_cannot_be_read_says_so(server, hub_cache):
    """A complete download that is no checkpoint (an error page served
    with 200): the message names the URL and the cache file to delete,
    not "a run killed while saving"."""
    url = server.serve('/page/weights.pth', b'<html>Sign in</html>')
    with pytest.raises(CachedCheckpointReadError) as info:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    message = str(info.value)
    assert url in message and f'Delete {cache_path(url)}' in message
    assert 'killed while saving' not in message


def test_model_dir_is_honoured(server, tmp_path):
    body = checkpoint_bytes(w=torch.ones(1))
    url = server.serve('/m/weights.pth', body)
    loaded = load_from_http(url, model_dir=str(tmp_path / 'mine'))
    assert torch.equal(loaded['w'], torch.ones(1))
    path = cache_path(url, str(tmp_path / 'mine'))
    assert path.startswith(str(tmp_path / 'mine'))
    assert open(path, 'rb').read() == body
    assert server.requests == ['/m/weights.pth']
