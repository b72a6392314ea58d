"""Issue 17: what the safe reader returns is plain data: exact types, no
instance attributes, stand-ins rebuilt only from proven values, and an
allowlist no other thread sees. (Crafted files that would crash the
process: test_reliability_crafted_files.py.)"""
import collections
import pickle
import threading

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from utils import (Forged, array_interface_dict, checkpoint_with,
                   history_buffer_holding)
from dctkd_mm.compat import UnsafeCheckpointError, load_checkpoint_file
from dctkd_mm.compat.safe_load import checkpoint_unpickling


# --- plain data only -------------------------------------------------------


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_attribute_planted_on_an_allowed_container_is_refused(tmp_path,
                                                              legacy):
    """F1: an OrderedDict carrying ``__array_interface__`` inside a
    HistoryBuffer (which NumPy would read as 512 words of heap) is refused
    before any NumPy call, naming the file and the path of the value."""
    path = str(tmp_path / 'f1.pth')
    torch.save(checkpoint_with(history_buffer_holding(
        array_interface_dict('<u8', 512))), path,
        _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message and 'OrderedDict carrying instance attributes' \
        in message and "['x']" in message


def test_tensor_with_planted_attributes_is_refused(tmp_path):
    """Through ``_rebuild_from_type_v2`` a tensor can carry attributes."""
    tensor = torch.zeros(3)
    tensor.__array_interface__ = dict(typestr='<u8', shape=(64, ),
                                      data=(8, False), version=3)
    path = str(tmp_path / 'tensor.pth')
    torch.save(checkpoint_with(tensor), path)
    with pytest.raises(UnsafeCheckpointError, match='tensor carrying'):
        load_checkpoint_file(path)


def test_counter_with_attributes_is_refused_plain_counter_loads(tmp_path):
    path = str(tmp_path / 'counter.pth')
    torch.save(checkpoint_with(collections.Counter([25, 50])), path)
    assert load_checkpoint_file(path)['x'] == collections.Counter([25, 50])
    evil = Forged(collections.Counter, ({25: 1}, ),
                  state={'__array_interface__': {}})
    torch.save(checkpoint_with(evil), path)
    with pytest.raises(UnsafeCheckpointError, match='Counter carrying'):
        load_checkpoint_file(path)


def test_state_dict_metadata_survives_and_nothing_else_does(tmp_path):
    """``Module.state_dict()`` sets ``_metadata`` on its OrderedDict (BN
    versions that load_state_dict reads): kept. Another attribute or a
    ``_metadata`` that is not a dict: refused."""
    state = torch.nn.BatchNorm2d(2).state_dict()
    path = str(tmp_path / 'bn.pth')
    torch.save(dict(state_dict=state), path)
    loaded = load_checkpoint_file(path)['state_dict']
    assert loaded._metadata == state._metadata
    state._metadata = array_interface_dict('<u8', 8)
    torch.save(dict(state_dict=state), path)
    with pytest.raises(UnsafeCheckpointError, match=r"\['state_dict'\]"):
        load_checkpoint_file(path)


def test_genuine_history_buffer_comes_back_as_a_real_one(tmp_path):
    buffer = HistoryBuffer(max_length=10)
    for value in (1.0, 2.0, 4.0):
        buffer.update(value)
    path = str(tmp_path / 'hub.pth')
    torch.save(dict(message_hub=dict(log_scalars=dict(loss=buffer))), path)
    loaded = load_checkpoint_file(path)['message_hub']['log_scalars']['loss']
    assert type(loaded) is HistoryBuffer
    assert loaded.max_length == 10 and loaded.mean() == pytest.approx(7 / 3)
    np.testing.assert_array_equal(loaded.data[0], buffer.data[0])


@pytest.mark.parametrize('state', [
    dict(max_length=5, _log_history=[1.0], _count_history=[1]),
    dict(max_length=-1),
    dict(max_length=5, evil=1),
], ids=['lists-not-arrays', 'bad-length', 'unknown-key'])
def test_malformed_history_buffer_state_is_refused(tmp_path, state):
    buffer = HistoryBuffer()
    buffer.__dict__.clear()
    buffer.__dict__.update(state)
    path = str(tmp_path / 'hub.pth')
    torch.save(checkpoint_with(buffer), path)
    with pytest.raises(UnsafeCheckpointError, match='HistoryBuffer'):
        load_checkpoint_file(path)


def test_path_in_a_message_is_bounded(tmp_path):
    """60 levels of 60-character keys above the refused value: the path
    is shown by its first and last steps (it was 4 KB)."""
    payload = array_interface_dict('<u8', 8)
    for level in range(60):
        payload = {f'{level:02d}' + 'k' * 58: payload}
    path = str(tmp_path / 'deep_keys.pth')
    torch.save(checkpoint_with(payload), path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message and len(message) < 2500, len(message)
    assert "['59kkkk" in message and '...' in message


def test_cycles_are_refused(tmp_path):
    loop = []
    loop.append(loop)
    path = str(tmp_path / 'cycle.pth')
    torch.save(checkpoint_with(loop), path)
    with pytest.raises(UnsafeCheckpointError, match='contains itself'):
        load_checkpoint_file(path)


# --- the allowlist is this thread's ----------------------------------------


def test_other_threads_do_not_see_our_allowlist(tmp_path):
    """F14: while one thread is inside our loading context, another
    thread's plain ``torch.load(weights_only=True)`` of a file holding a
    HistoryBuffer is still refused; ours loads it."""
    path = str(tmp_path / 'hub.pth')
    buffer = HistoryBuffer()
    buffer.update(1.0)
    torch.save(dict(b=buffer), path)
    inside, done = threading.Event(), threading.Event()
    outcome = {}

    def other_thread():
        inside.wait(30)
        try:
            torch.load(path, weights_only=True)
            outcome['other'] = 'loaded'
        except pickle.UnpicklingError:
            outcome['other'] = 'refused'
        done.set()

    before = torch.serialization.get_safe_globals()
    worker = threading.Thread(target=other_thread)
    worker.start()
    with checkpoint_unpickling():
        inside.set()
        assert done.wait(60)
    worker.join()
    assert outcome['other'] == 'refused'
    assert torch.serialization.get_safe_globals() == before
    assert type(load_checkpoint_file(path)['b']) is HistoryBuffer


@pytest.mark.parametrize('stored', [
    dict(max_length=5, log_history=[1.0], count_history=[1]),
    dict(max_length=True, log_history=torch.ones(1),
         count_history=torch.ones(1)),
    dict(max_length=5, log_history=torch.ones(2, 2),
         count_history=torch.ones(2)),
], ids=['lists', 'bool-length', 'two-dims'])
def test_our_stored_history_buffers_are_type_checked_before_numpy(stored):
    """What our own checkpoints store for a HistoryBuffer is checked
    before ``.numpy()`` / ``HistoryBuffer`` see it."""
    from dctkd_mm.engine.runner.checkpoint_contents import (
        HISTORY_BUFFER_TAG, restore_message_hub)
    checkpoint = dict(message_hub=dict(
        log_scalars={'train/loss': {HISTORY_BUFFER_TAG: stored}}))
    with pytest.raises(ValueError, match="log_scalars\\['train/loss'\\]"):
        restore_message_hub(checkpoint)
