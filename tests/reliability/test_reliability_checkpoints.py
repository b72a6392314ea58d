"""Promise 2: loading a checkpoint never runs code from it, says clearly
which file and what was refused, and still loads every genuine MMEngine /
MMPretrain / MMRazor checkpoint, old formats included.
"""
import copy
import os
import os.path as osp
import pickle
import types
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader
from mmrazor.registry import MODELS

from utils import train_in_process
from dctkd_mm.apis.export_cli import main as export_main
from dctkd_mm.compat import (CheckpointReadError, UnsafeCheckpointError,
                             load_checkpoint_file)
from dctkd_mm.engine.runner.checkpoint_contents import (HISTORY_BUFFER_TAG,
                                                        restore_message_hub)

# --- crafted files ---------------------------------------------------------


class _RunsCommand:
    """Unpickles to ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


class _GetAttr:
    """Unpickles to ``getattr(obj, name)``."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


def _malicious(path, payload, legacy=False):
    checkpoint = dict(meta=dict(epoch=1, iter=4), state_dict={}, x=payload)
    torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return str(path)


class _Numpy1Pickler(pickle._Pickler):
    """Writes NumPy's globals under the module names NumPy 1.x used
    (``numpy.core.multiarray._reconstruct`` / ``scalar``), as checkpoints
    written before NumPy 2 hold them."""

    def save_global(self, obj, name=None):
        module = getattr(obj, '__module__', None) or ''
        if module.startswith('numpy._core'):
            old = module.replace('numpy._core', 'numpy.core', 1)
            self.write(pickle.GLOBAL +
                       f'{old}\n{name or obj.__qualname__}\n'.encode())
            self.memoize(obj)
            return
        super().save_global(obj, name)


_NUMPY1 = types.SimpleNamespace(
    Pickler=_Numpy1Pickler, Unpickler=pickle.Unpickler, dump=pickle.dump,
    load=pickle.load, __name__='numpy1_pickle')


def _resave_numpy1(src, dst, legacy):
    """``src`` as MMEngine's own CheckpointHook would have written it
    (message hub HistoryBuffers holding NumPy arrays, a NumPy scalar among
    the runtime info), re-pickled with NumPy-1.x globals, optionally in
    the pre-1.6 non-zip format; returns the pickle bytes of the file."""
    checkpoint = load_checkpoint_file(src)
    restore_message_hub(checkpoint)
    checkpoint['message_hub']['runtime_info']['numpy_scalar'] = np.float64(
        0.25)
    torch.save(checkpoint, dst, pickle_module=_NUMPY1,
               _use_new_zipfile_serialization=not legacy)
    if not zipfile.is_zipfile(dst):
        with open(dst, 'rb') as f:
            return f.read()
    with zipfile.ZipFile(dst) as archive:
        name, = [n for n in archive.namelist() if n.endswith('/data.pkl')]
        return archive.read(name)


def _assert_refused(exc_info, path, what):
    message = str(exc_info.value)
    assert isinstance(exc_info.value, UnsafeCheckpointError)
    assert path in message, message
    assert what in message, message
    assert 'weights_only=False' in message  # ... is what NOT to do
    assert 'Do not retry' in message


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / 'PWNED'
    yield str(path)
    assert not path.exists(), 'a checkpoint ran a command'


@pytest.fixture
def evil_ckpt(tmp_path, marker):
    return _malicious(tmp_path / 'evil.pth', _RunsCommand(f'touch {marker}'))


def _build(distill_config, teacher_ckpt):
    model = copy.deepcopy(Config.fromfile(distill_config).model)
    model.teacher_ckpt = teacher_ckpt
    return MODELS.build(model)


def _in_process(distill_config, work_dir, *args, options=()):
    """tools/train.py in this process (non-deterministic algorithms: that
    switch is process-wide)."""
    return train_in_process([
        distill_config, '--work-dir', str(work_dir), *args,
        '--cfg-options', 'randomness.deterministic=False', *options
    ])


# --- refused ---------------------------------------------------------------


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_code_in_a_checkpoint_is_not_run(tmp_path, marker, legacy):
    path = _malicious(tmp_path / 'evil.pth', _RunsCommand(f'touch {marker}'),
                      legacy=legacy)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)
    _assert_refused(info, path, 'posix.system')


def test_getattr_chain_is_refused(tmp_path):
    """``getattr`` is allowlisted for HistoryBuffer's statistics only: a
    walk to ``__init__.__globals__`` (and on to ``os``) stops at once."""
    chain = _GetAttr(_GetAttr(HistoryBuffer, '__init__'), '__globals__')
    path = _malicious(tmp_path / 'getattr.pth', chain)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)
    _assert_refused(info, path, "getattr(HistoryBuffer, '__init__')")


def test_malicious_teacher_ckpt_is_refused(distill_config, evil_ckpt):
    with pytest.raises(UnsafeCheckpointError) as info:
        _build(distill_config, evil_ckpt)
    _assert_refused(info, evil_ckpt, 'posix.system')


@pytest.mark.slow
def test_malicious_resume_is_refused(distill_config, evil_ckpt, tmp_path):
    with pytest.raises(UnsafeCheckpointError) as info:
        _in_process(distill_config, tmp_path / 'work', '--resume', evil_ckpt)
    _assert_refused(info, evil_ckpt, 'posix.system')


@pytest.mark.slow
def test_malicious_load_from_is_refused(distill_config, evil_ckpt, tmp_path):
    with pytest.raises(UnsafeCheckpointError) as info:
        _in_process(distill_config, tmp_path / 'work',
                    options=[f'load_from={evil_ckpt}'])
    _assert_refused(info, evil_ckpt, 'posix.system')


def test_malicious_checkpoint_to_export_is_refused(distill_config, evil_ckpt,
                                                   tmp_path):
    with pytest.raises(UnsafeCheckpointError) as info:
        export_main([
            distill_config, evil_ckpt, '--out-dir',
            str(tmp_path / 'out')
        ])
    _assert_refused(info, evil_ckpt, 'posix.system')
    assert not (tmp_path / 'out').exists() or not os.listdir(tmp_path / 'out')


@pytest.mark.slow
def test_truncated_checkpoint_names_the_file(distill_config, uninterrupted_run,
                                             tmp_path):
    """What a kill while saving leaves: a clear error, not a zip error."""
    source = osp.join(uninterrupted_run.wait().work_dir, 'iter_2.pth')
    with open(source, 'rb') as f:
        data = f.read()
    truncated = str(tmp_path / 'iter_2.pth')
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(CheckpointReadError) as info:
        _in_process(distill_config, tmp_path / 'work', '--resume', truncated)
    message = str(info.value)
    assert truncated in message and 'truncated' in message
    assert 'previous checkpoint' in message


def test_truncated_teacher_ckpt_names_the_file(distill_config, teacher_ckpt,
                                               tmp_path):
    with open(teacher_ckpt, 'rb') as f:
        data = f.read()
    truncated = str(tmp_path / 'teacher.pth')
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) // 3])
    with pytest.raises(CheckpointReadError) as info:
        _build(distill_config, truncated)
    message = str(info.value)
    assert truncated in message and 'truncated' in message
    assert 'does not match' not in message  # not a state-dict mismatch


# --- still loaded ----------------------------------------------------------


def test_mmpretrain_checkpoint_loads_strictly_as_teacher(
        distill_config, teacher_ckpt):
    """The teacher fixture was written by an MMPretrain runner with the
    project's AtomicCheckpointHook: message hub (HistoryBuffers stored as
    tensors), optimizer, scheduler, meta."""
    checkpoint = CheckpointLoader.load_checkpoint(teacher_ckpt)
    assert {'meta', 'state_dict', 'optimizer', 'param_schedulers',
            'message_hub'} <= set(checkpoint)
    buffers = checkpoint['message_hub']['log_scalars']
    assert HISTORY_BUFFER_TAG in buffers['train/loss']
    model = _build(distill_config, teacher_ckpt)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, checkpoint['state_dict'][key]), key


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_numpy1_era_checkpoint_loads(distill_config, teacher_ckpt, tmp_path,
                                     legacy):
    old = str(tmp_path / 'numpy1.pth')
    raw = _resave_numpy1(teacher_ckpt, old, legacy)
    assert b'numpy.core.multiarray\n_reconstruct' in raw
    assert b'numpy.core.multiarray\nscalar' in raw
    assert b'numpy._core' not in raw

    original = CheckpointLoader.load_checkpoint(teacher_ckpt)
    restore_message_hub(original)
    loaded = CheckpointLoader.load_checkpoint(old)
    hub = MessageHub('numpy1_check')
    hub.load_state_dict(loaded['message_hub'])
    for key, buffer in original['message_hub']['log_scalars'].items():
        for a, b in zip(buffer.data, hub.log_scalars[key].data):
            np.testing.assert_array_equal(a, b)
    assert loaded['meta']['dataset_meta'] == original['meta']['dataset_meta']
    model = _build(distill_config, old)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, original['state_dict'][key]), key


@pytest.mark.slow
def test_old_format_distill_checkpoint_resumes(distill_config,
                                               uninterrupted_run, tmp_path):
    """An MMRazor distillation checkpoint with NumPy-1.x globals in the
    non-zip format resumes with tools/train.py --resume."""
    source = osp.join(uninterrupted_run.wait().work_dir, 'iter_2.pth')
    old = str(tmp_path / 'iter_2_old.pth')
    _resave_numpy1(source, old, legacy=True)
    work = tmp_path / 'work'
    _in_process(distill_config, work, '--resume', old, '--no-validate',
                options=['train_cfg.max_epochs=1'])
    resumed = CheckpointLoader.load_checkpoint(str(work / 'iter_4.pth'))
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (0, 4)
