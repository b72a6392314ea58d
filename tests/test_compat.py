import io
import pickle
import subprocess
import sys

import pytest
import torch

import dctkd_mm  # noqa: F401
from dctkd_mm.compat import REPLACED_MODULES, MMRazorFeatureUnavailable


def test_mmrazor_distillation_parts_import_and_register():
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    from mmrazor.engine import SingleTeacherDistillValLoop  # noqa: F401
    from mmrazor.registry import MODELS, TASK_UTILS
    for name in ('DCTAttentionLoss', 'AttentionMapConnector',
                 'ActivationMapAdapter', 'SingleTeacherDistill',
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
    from mmrazor.registry import MODELS
    with pytest.raises(MMRazorFeatureUnavailable, match='BackendConfigs'):
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


def test_history_buffer_checkpoint_loads_safely():
    from mmengine.logging import HistoryBuffer, MessageHub
    hub = MessageHub.get_instance('test_compat_hub')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', torch.tensor(0.5))
    buffer = io.BytesIO()
    torch.save({'message_hub': hub.state_dict(),
                'extra': HistoryBuffer([1, 2], [1, 1])}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)  # weights_only=True by default
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1.0


class _Evil:

    def __reduce__(self):
        return (print, ('pwned', ))


def test_unknown_globals_are_still_refused():
    buffer = io.BytesIO()
    torch.save({'x': _Evil()}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='print'):
        torch.load(buffer)


def test_getattr_is_limited_to_history_buffer_statistics():
    from dctkd_mm.compat.safe_load import history_buffer_getattr
    from mmengine.logging import HistoryBuffer
    assert history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        import os
        history_buffer_getattr(os, 'system')
