import pickle
import subprocess
import sys

import pytest
import tempfile
import textwrap

import numpy as np
import torch

import dctkd_mm  # noqa: F401
from dctkd_mm.compat import (REPLACED_MODULES, MMRazorFeatureUnavailable,
                             load_checkpoint_file)


def test_mmrazor_distillation_parts_import_and_register():
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    from mmrazor.engine import SingleTeacherDistillValLoop  # noqa: F401
    from mmrazor.registry import MODELS, TASK_UTILS
    for name in ('DCTAttentionLoss', 'AttentionMapConnector',
                 'ResidualFeatureAdapter', 'SingleTeacherDistill',
                 'ConfigurableDistiller', 'ATLoss', 'KLDivergence',
                 'FrozenTeacherDistill'):
        assert MODELS.get(name) is not None, name
    for name in ('ModuleOutputsRecorder', 'MethodInputsRecorder'):
        assert TASK_UTILS.get(name) is not None, name


def test_plain_import_order_works_from_a_fresh_interpreter():
    # What a config's custom_imports does: import dctkd_mm, then mmrazor.
    code = ('import dctkd_mm, mmrazor.models, mmrazor.engine;'
            'from mmrazor.registry import MODELS;'
            'assert MODELS.get("DCTAttentionLoss")')
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.mark.skipif(not REPLACED_MODULES,
                    reason='MMRazor quantization imports natively here')
def test_unavailable_quantization_fails_clearly_when_used():
    from mmrazor.structures.quantization import BackendConfigs
    with pytest.raises(MMRazorFeatureUnavailable,
                       match=r'BackendConfigs.*torch 2\..*torch\.ao'):
        BackendConfigs['native']
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS

    # The quantizer builds its tracer in the current default scope, which
    # an earlier test in this process may have left at another package.
    with pytest.raises(MMRazorFeatureUnavailable, match='BackendConfigs'), \
            DefaultScope.overwrite_default_scope('mmrazor'):
        MODELS.build(
            dict(type='mmrazor.TorchNativeQuantizer',
                 global_qconfig=dict(
                     w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
                     a_observer=dict(
                         type='mmrazor.MovingAverageMinMaxObserver'),
                     w_fake_quant=dict(type='mmrazor.FakeQuantize'),
                     a_fake_quant=dict(type='mmrazor.FakeQuantize'),
                     w_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True),
                     a_qscheme=dict(qdtype='quint8', bit=8,
                                    is_symmetry=True))))


def test_history_buffer_checkpoint_loads_safely(tmp_path):
    """A message hub as MMEngine's own CheckpointHook saves it (HistoryBuffer
    with NumPy arrays) loads through the safe reader."""
    from mmengine.logging import HistoryBuffer, MessageHub
    hub = MessageHub.get_instance('test_compat_hub')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', torch.tensor(0.5))
    path = str(tmp_path / 'hub.pth')
    torch.save({'message_hub': hub.state_dict(),
                'extra': HistoryBuffer([1, 2], [1, 1])}, path)
    loaded = load_checkpoint_file(path)
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1.0


def test_import_leaves_torch_safe_globals_unchanged():
    """Issue 10 case 3: the allowlist applies only inside the project's
    reader. (torch.distributed.tensor and torch._dynamo add their own
    entries when first imported, so they are imported before counting.)"""
    code = textwrap.dedent("""
        import torch, torch.distributed.tensor, torch._dynamo
        before = set(torch.serialization.get_safe_globals())
        import dctkd_mm
        from dctkd_mm.compat import load_checkpoint_file
        torch.save({'x': 1}, 'ok.pth')
        load_checkpoint_file('ok.pth')
        after = set(torch.serialization.get_safe_globals())
        assert after == before, sorted(map(str, after ^ before))
        print(len(before))
    """)
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True,
                         cwd=tempfile.mkdtemp())
    assert int(out.stdout.split()[-1]) < 90  # the 117 of issue 10: gone


def test_a_user_allowlist_entry_survives_our_loads(tmp_path):
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([HistoryBuffer])
    try:
        torch.save({'x': 1}, str(tmp_path / 'a.pth'))
        load_checkpoint_file(str(tmp_path / 'a.pth'))
        assert HistoryBuffer in torch.serialization.get_safe_globals()
    finally:
        torch.serialization.clear_safe_globals()


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_plain_numeric_numpy_data_round_trips(tmp_path, legacy):
    values = dict(
        f8=np.arange(6.).reshape(2, 3), big=np.arange(4, dtype='>i4'),
        fortran=np.asfortranarray(np.arange(6, dtype=np.uint8).reshape(2, 3)),
        c8=np.array([1 + 2j], dtype=np.complex64), b=np.array([True, False]),
        empty=np.zeros((0, 3), np.float16), scalar=np.float32(2.5),
        iscalar=np.int64(-3), shared=[np.ones(2)] * 2)
    path = str(tmp_path / 'np.pth')
    torch.save(values, path, _use_new_zipfile_serialization=not legacy)
    loaded = load_checkpoint_file(path)
    for key, value in values.items():
        if key == 'shared':
            continue
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype, key
    assert loaded['fortran'].flags.f_contiguous
    assert isinstance(loaded['scalar'], np.float32)


def test_every_mmengine_scheme_reads_through_the_safe_reader():
    from mmengine.runner.checkpoint import CheckpointLoader
    from dctkd_mm.compat import checkpoint_schemes
    ours = set(checkpoint_schemes.SAFE_SCHEMES.values())
    ours.add(checkpoint_schemes.load_from_backend)
    for prefix in ('', 'http://', 'https://', 'pavi://', 's3://',
                   'petrel://', 'torchvision://', 'modelzoo://',
                   'open-mmlab://', 'openmmlab://', 'mmcls://'):
        assert prefix in CheckpointLoader._schemes or any(
            p.endswith(prefix) for p in CheckpointLoader._schemes), prefix
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader in ours, (prefix, loader)


class _Evil:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_unknown_globals_are_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError, match='print'):
        load_checkpoint_file(path)


def test_getattr_is_limited_to_history_buffer_statistics():
    from dctkd_mm.compat.history_buffer_unpickling import (
        PendingHistoryBuffer, history_buffer_getattr)
    from mmengine.logging import HistoryBuffer
    # Inside the unpickler the class is the stand-in, and the method is
    # recorded by name (the real HistoryBuffer is built after checks).
    assert history_buffer_getattr(PendingHistoryBuffer, 'mean') == 'mean'
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        history_buffer_getattr(PendingHistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        history_buffer_getattr(HistoryBuffer, 'mean')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        import os
        history_buffer_getattr(os, 'system')
