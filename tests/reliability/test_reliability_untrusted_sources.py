"""Issue 10 cases 1 and 2 as attacks that now fail: a checkpoint served
from a URL (from torch.hub's cache: no network) used as ``teacher_ckpt``,
``load_from`` or ``init_cfg=Pretrained`` runs nothing, and a forged NumPy
array in a real checkpoint is refused before NumPy builds it. Benign URL
checkpoints (the ImageNet-initialised teacher configs) still load.
"""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from utils import runner_state_restored, subprocess_env, train_toy
from dctkd_mm.compat import UnsafeCheckpointError, load_checkpoint_file
from dctkd_mm.compat.downloads import cache_path

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMPRETRAIN_IN1K = osp.join(ROOT, 'configs', '_base_', 'models',
                           'resnet50_mmpretrain-in1k-pre.py')
TORCHVISION_RESNET50 = ('https://download.pytorch.org/models/'
                        'resnet50-0676ba61.pth')


def _teacher_config() -> Config:
    path, = glob.glob(osp.join(ROOT, 'configs', 'teachers',
                               'resnet50_*places365.py'))
    return Config.fromfile(path)


def _mmpretrain_in1k_url() -> str:
    return Config.fromfile(MMPRETRAIN_IN1K).model.backbone.init_cfg.checkpoint


class _Forged:
    """Pickles as ``func(*args)`` then ``BUILD(state)``: what a crafted
    file can hold."""

    def __init__(self, func, args, state=None):
        self.reduced = (func, args) + ((state, ) if state is not None else ())

    def __reduce__(self):
        return self.reduced


def _void_hiding_object_dtype():
    return _Forged(np.dtype, ('V8', False, True),
                   (3, '|', None, ('a', ), {'a': (np.dtype('O'), 0)}, 8, 1,
                    0))


def forged_object_array(length: int) -> _Forged:
    """An ndarray whose void dtype hides an object field, flags cleared so
    NumPy believes it holds no references: its bytes become pointers."""
    return _Forged(np._core.multiarray._reconstruct,
                   (np.ndarray, (0, ), b'b'),
                   (1, (length, ), _void_hiding_object_dtype(), False,
                    b'\x41' * 8 * length))


class _RunsCommand:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """torch.hub's checkpoint cache under a fresh TORCH_HOME."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    assert torch.hub.get_dir() == str(tmp_path / 'torch_home' / 'hub')
    return cache


def _plant(obj, url: str) -> None:
    """Put ``obj`` where a download of ``url`` is cached (its own folder,
    keyed by the URL), as if it had been served from there."""
    os.makedirs(osp.dirname(cache_path(url)), exist_ok=True)
    torch.save(obj, cache_path(url))


@pytest.fixture
def evil_url(hub_cache, tmp_path):
    """The MMPretrain ImageNet URL of the teacher configs, its cached file
    replaced by one that runs ``touch MARKER``."""
    url = _mmpretrain_in1k_url()
    marker = tmp_path / 'PWNED'
    _plant({'state_dict': {}, 'x': _RunsCommand(f'touch {marker}')}, url)
    yield url
    assert not marker.exists(), 'a checkpoint from a URL ran a command'


def _assert_refused(info, url):
    message = str(info.value)
    assert url in message and 'posix.system' in message, message
    assert 'Do not retry' in message


def test_url_as_teacher_ckpt_runs_nothing(evil_url):
    cfg = Config.fromfile(osp.join(ROOT, 'configs',
                                   'dct_kd_r50_r18_places365.py'))
    cfg.model.teacher_ckpt = evil_url
    with pytest.raises(UnsafeCheckpointError) as info:
        MODELS.build(cfg.model)
    _assert_refused(info, evil_url)


def test_url_as_load_from_runs_nothing(evil_url, tmp_path):
    cfg = _teacher_config()
    cfg.work_dir, cfg.load_from = str(tmp_path / 'work'), evil_url
    # The runner formats the config's text with yapf (seconds of CPU) for
    # its log and dumps; nothing here reads them.
    object.__setattr__(cfg, '_format_python_code', False)
    with runner_state_restored():
        runner = Runner.from_cfg(cfg)
        with pytest.raises(UnsafeCheckpointError) as info:
            runner.load_or_resume()
    _assert_refused(info, evil_url)


def test_url_in_init_cfg_runs_nothing(evil_url):
    cfg = _teacher_config()
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=evil_url, prefix='backbone')
    model = MODELS.build(cfg.model)
    with pytest.raises(UnsafeCheckpointError) as info:
        model.init_weights()
    _assert_refused(info, evil_url)


def test_imagenet_teacher_config_initialises_from_a_benign_url(hub_cache):
    """The teacher config's ``torchvision://resnet50`` resolves to
    torchvision's URL; its cached file (torchvision key names) loads
    through the safe reader into the backbone."""
    cfg = _teacher_config()
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision://resnet50'
    reference = MODELS.build(cfg.model).backbone.state_dict()
    torch.manual_seed(0)
    weights = {k: torch.randn(v.shape) if v.is_floating_point() else v
               for k, v in reference.items()}
    _plant(weights, TORCHVISION_RESNET50)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, weights[key]), key


def test_benign_url_loads_directly(hub_cache):
    url = 'https://example.invalid/some/dir/benign.pth'
    _plant({'w': torch.arange(3), 'a': np.arange(2.)}, url)
    loaded = load_checkpoint_file(url)
    assert torch.equal(loaded['w'], torch.arange(3))
    np.testing.assert_array_equal(loaded['a'], np.arange(2.))


@pytest.mark.parametrize('payload, named', [
    (forged_object_array(4), "'V8'"),
    (np.array([{'a': 1}], dtype=object), "'O8'"),
    (np.array(['text']), "'U4'"),
    (np.zeros(2, dtype=[('a', 'f4'), ('b', 'i4')]), "'V8'"),
    (_Forged(np._core.multiarray.scalar,
             (_void_hiding_object_dtype(), b'\x41' * 8)), "'V8'"),
    (_Forged(np._core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
             (1, (4, ), np.dtype('f8'), False, b'\x00' * 8)), 'needs 32'),
    (_Forged(np._core.multiarray._reconstruct, (np.ndarray, (3, ), b'b')),
     'only plain numpy.ndarray'),
    (_Forged(bytes, (10**9, )), 'only bytes() is allowed'),
], ids=['void-hiding-object', 'object', 'string', 'structured',
        'forged-scalar', 'short-data', 'reconstruct-args', 'bytes-args'])
def test_non_numeric_or_forged_numpy_data_is_refused(tmp_path, payload,
                                                     named):
    path = str(tmp_path / 'forged.pth')
    torch.save({'x': payload}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message and named in message, message
    assert 'Do not retry' in message


_RESUME = textwrap.dedent("""
    import pathlib
    from utils import train_toy  # tests/ is on PYTHONPATH (subprocess_env)
    train_toy(pathlib.Path({work!r}), resume_from={ckpt!r})
""")


def test_forged_generator_state_in_a_real_checkpoint_is_refused(tmp_path):
    """Issue 10 case 2: a real iter_3.pth of ExactResumeEpochBasedTrainLoop
    whose saved NumPy generator keys are replaced by a forged array. The
    resume (in a subprocess, so a crash would show as SIGSEGV) stops with
    UnsafeCheckpointError naming the file, before any array is built."""
    train_toy(tmp_path / 'run', max_epochs=1,
              checkpoint=dict(type='CheckpointHook', interval=3,
                              by_epoch=False))
    ckpt = load_checkpoint_file(str(tmp_path / 'run' / 'iter_3.pth'))
    rng = ckpt['message_hub']['runtime_info']['exact_resume_state']['rng']
    kind, keys, *rest = rng['numpy']
    assert kind == 'MT19937' and len(keys) == 624
    rng['numpy'] = (kind, forged_object_array(624), *rest)
    forged = str(tmp_path / 'iter_3.pth')
    torch.save(ckpt, forged)

    code = _RESUME.format(work=str(tmp_path / 'resumed'), ckpt=forged)
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert 'UnsafeCheckpointError' in proc.stderr
    assert forged in proc.stderr and "'V8'" in proc.stderr
