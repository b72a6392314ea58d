"""Crafted tensors, storages and stand-ins in real checkpoint files: the
safe reader hands out no memory the file did not fill, no tensor other
than a dense one reading its own storage, and names the file (and the
record, or the path inside the loaded object) in every refusal.

Before these checks, ``torch.Tensor(1000)`` in a checkpoint (or a
``TypedStorage(1000)`` under ``_rebuild_tensor_v2``, or a legacy storage
left out of the key list) loaded as 4 KB of uninitialized heap, pointers
included; meta, sparse, quantized and nested tensors, a tensor with a
``.grad`` set through ``setattr`` and a stride-0 view of 2**40 elements
all loaded. (Payloads that crashed or hung: test_reliability_crafted_
files.py.)
"""
import collections
import io
import random
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from utils import Forged, checkpoint_with, zip_with_pickle
from utils.crafted import (empty_zip_checkpoint, legacy_parts,
                           new_object_pickle, process_wide_safe_globals)
from dctkd_mm.compat import UnsafeCheckpointError, load_checkpoint_file

U = torch._utils
_NO_HOOKS = collections.OrderedDict


def _save(tmp_path, payload, legacy=False, name='crafted.pth') -> str:
    path = str(tmp_path / name)
    torch.save(checkpoint_with(payload), path,
               _use_new_zipfile_serialization=not legacy)
    return path


def _refusal(path: str, *words) -> str:
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message and len(message) < 3000, message[:500]
    for word in words:
        assert word in message, message[:800]
    return message


# --- no uninitialized memory -----------------------------------------------

_UNFILLED = {
    'Tensor(n)': (Forged(torch.Tensor, (1000, )), 'torch.Tensor'),
    'FloatTensor(n)': (Forged(torch.FloatTensor, (1000, )),
                       'torch.FloatTensor'),
    'TypedStorage(n)': (Forged(U._rebuild_tensor_v2, (Forged(
        torch.storage.TypedStorage, (1000, )), 0, (1000, ), (1, ), False,
        _NO_HOOKS())), 'torch.storage.TypedStorage'),
    'from-type(Tensor, n)': (Forged(torch._tensor._rebuild_from_type_v2, (
        torch.Tensor, torch.Tensor, (1000, ), {})),
        'torch._tensor._rebuild_from_type_v2'),
    'bytearray(2**40)': (Forged(bytearray, (2**40, )), 'builtins.bytearray'),
}


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('name', list(_UNFILLED))
def test_constructors_that_allocate_unfilled_memory_are_refused(
        tmp_path, name, legacy):
    """Each loaded as heap contents (or tried a 1 TiB allocation); now
    the pickle scan refuses the global before PyTorch calls it."""
    payload, global_name = _UNFILLED[name]
    path = _save(tmp_path, payload, legacy)
    message = _refusal(path, f'asks for {global_name}')
    if not legacy:
        assert '(record crafted/data.pkl)' in message


@pytest.mark.skipif(not torch.distributed.is_available(),
                    reason='needs torch.distributed')
@pytest.mark.parametrize('index', [0, 1, 2],
                         ids=['DeviceMesh', 'StackSummary', 'exception'])
def test_process_wide_safe_globals_are_not_ours(tmp_path, index):
    """The reader admitted them (DeviceMesh's constructor went as far as
    an env:// rendezvous: in a torchrun job a checkpoint could make the
    resume join or hang on a process group); none is plain data."""
    payload, name = process_wide_safe_globals()[index]
    _refusal(_save(tmp_path, payload), name, 'safe loading does not build')


def _legacy_with_parts(tmp_path, parts) -> str:
    path = tmp_path / 'legacy.pth'
    path.write_bytes(b''.join(parts))
    return str(path)


def test_legacy_storage_left_out_of_the_key_list_is_refused(tmp_path):
    """PyTorch allocates each legacy storage and fills only those in the
    key list: one left out came back as uninitialized heap."""
    parts = legacy_parts(_save(tmp_path, torch.arange(1000.), legacy=True))
    parts[4] = b'\x80\x02].'  # no storage keys
    _refusal(_legacy_with_parts(tmp_path, parts), 'is never filled')


def test_legacy_storage_larger_than_the_file_is_refused(tmp_path):
    """The declared element count is allocated before any data is read:
    2**31 elements in a 1 KB file."""
    parts = legacy_parts(_save(tmp_path, torch.arange(7.), legacy=True))
    assert b'K\x07Nt' in parts[3]  # numel 7, no view
    parts[3] = parts[3].replace(b'K\x07Nt', b'J\xff\xff\xff\x7fNt')
    _refusal(_legacy_with_parts(tmp_path, parts), 'declares 2147483647')


# --- dense tensors only ----------------------------------------------------


def _nested():
    return torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])


@pytest.mark.parametrize('make,global_name', [
    (lambda: torch.empty(3, device='meta'), '_rebuild_meta_tensor_no_storage'),
    (lambda: torch.ones(3).to_sparse(), '_rebuild_sparse_tensor'),
    (lambda: torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.quint8),
     '_rebuild_qtensor'),
    (_nested, '_rebuild_nested_tensor'),
], ids=['meta', 'sparse', 'quantized', 'nested'])
def test_tensors_that_are_not_dense_are_refused(tmp_path, make, global_name):
    """Genuine files of each kind (torch.save of a real tensor): none is
    a weight of these models, and each has its own bounds checks in
    PyTorch to trust."""
    _refusal(_save(tmp_path, make()), f'torch._utils.{global_name}',
             'dense tensors only')


def test_quantized_dtype_without_a_quantizer_is_refused(tmp_path):
    """``_rebuild_tensor_v3`` with dtype quint8 loaded a tensor whose
    quantizer is unknown (PyTorch's INTERNAL ASSERT on first use)."""
    payload = Forged(U._rebuild_tensor_v3, (
        torch.zeros(8, dtype=torch.uint8).storage(), 0, (8, ), (1, ), False,
        _NO_HOOKS(), torch.quint8))
    _refusal(_save(tmp_path, payload), "['x']: a torch.strided tensor",
             'quantized: True')


def test_compressed_records_are_refused(tmp_path):
    """torch.save stores records; a deflated one is inflated into as much
    memory as declared: 200 KB of file read 200 MB before."""
    genuine = zipfile.ZipFile(io.BytesIO(empty_zip_checkpoint()))
    path = str(tmp_path / 'deflated.pth')
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as bomb:
        for info in genuine.infolist():
            data = genuine.read(info)
            if info.filename.endswith('data.pkl'):
                data += bytes(200 << 20)  # ignored after STOP
            bomb.writestr(info.filename, data)
    _refusal(path, "record 'archive/data.pkl' is compressed")


def test_tensor_with_a_gradient_set_through_its_state_is_refused(tmp_path):
    """``_rebuild_from_type_v2`` applies its state with ``setattr``:
    ``.grad`` (and hooks) leave no ``__dict__`` behind; it loaded."""
    rebuild = (torch.zeros(3).storage(), 0, (3, ), (1, ), False,
               _NO_HOOKS())
    payload = Forged(torch._tensor._rebuild_from_type_v2, (
        U._rebuild_tensor_v2, torch.Tensor, rebuild,
        (None, {'grad': torch.ones(3)})))
    _refusal(_save(tmp_path, payload), 'tensor carrying Python attributes')


@pytest.mark.parametrize('hooks', [0, {'a': 1}], ids=['int', 'dict'])
def test_parameter_with_forged_hooks_is_refused(tmp_path, hooks):
    """``torch.save`` writes an empty OrderedDict; ``0`` loaded."""
    payload = Forged(U._rebuild_parameter, (torch.zeros(2), True, hooks))
    _refusal(_save(tmp_path, payload), "['x']: a tensor carrying")


def test_empty_hooks_carrying_attributes_are_refused(tmp_path):
    hooks = _NO_HOOKS()
    hooks.__dict__['__array_interface__'] = {}
    payload = Forged(U._rebuild_parameter, (torch.zeros(2), True, hooks))
    _refusal(_save(tmp_path, payload), "['x']: a tensor carrying")


@pytest.mark.parametrize('size,shown', [
    ((2**40, ), '(1099511627776,), strides (0,)'),
    ((1, ) * 5000 + (2**30, ), '(1, 1, 1, 1, 1, 1, 1, 1, ... (5001 in all))'),
], ids=['2**40', '5001-dims'])
def test_view_repeating_its_storage_without_bound_is_refused(
        tmp_path, size, shown):
    """A stride-0 view of one number claiming 2**40 elements loaded; any
    sum or copy of it hangs or runs out of memory. Its shape is shown
    bounded (5,001 dimensions would be 30 KB)."""
    payload = Forged(U._rebuild_tensor_v2, (torch.zeros(1).storage(), 0,
                                            size, (0, ) * len(size), False,
                                            _NO_HOOKS()))
    _refusal(_save(tmp_path, payload), f"['x']: a tensor of shape {shown}")


@pytest.mark.parametrize('size,stride,offset', [
    ((1000, ), (1, ), 0), ((2, ), (1, ), 100), ((4, ), (-1, ), 3)],
    ids=['size', 'offset', 'negative-stride'])
def test_views_beyond_their_storage_are_refused(tmp_path, size, stride,
                                                offset):
    """PyTorch's own bounds check refuses these while rebuilding: a named
    error, never a read past the storage."""
    payload = Forged(U._rebuild_tensor_v2, (torch.arange(4.).storage(),
                                            offset, size, stride, False,
                                            _NO_HOOKS()))
    path = _save(tmp_path, payload)
    with pytest.raises(Exception) as info:
        load_checkpoint_file(path)
    assert path in str(info.value)


# --- stand-ins -------------------------------------------------------------


@pytest.mark.parametrize('global_name,words', [
    ('mmengine.logging.history_buffer.HistoryBuffer', 'HistoryBuffer with '
     'pickled state None'),
    ('numpy.dtype', 'NumPy dtype None'),
    ('dctkd_mm.compat.numpy_unpickling._PendingArray',
     'NumPy array with malformed pickled state None'),
], ids=['HistoryBuffer', 'dtype', 'array'])
def test_stand_ins_created_without_init_are_refused_by_path(
        tmp_path, global_name, words):
    """NEWOBJ with no BUILD leaves the stand-in's slots unset: this was
    an AttributeError reported as a corrupt file, naming no path."""
    path = zip_with_pickle(tmp_path / 'new.pth',
                           new_object_pickle(global_name))
    _refusal(path, f"['x']: {words}")


def _array(shape, raw: bytes):
    return Forged(np._core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
                  (1, shape, np.dtype('f4'), False, raw))


@pytest.mark.parametrize('shape,raw,words', [
    ((1, ) * 100_000, b'\0' * 3, 'a tuple of 100000 items'),
    ((2**48, 2**48, 0), b'', 'more than 281474976710656 elements'),
], ids=['100k-dims', 'huge-empty'])
def test_numpy_shapes_are_bounded_and_named(tmp_path, shape, raw, words):
    """The 100,000-dimension shape was printed whole (a 300 KB message);
    the huge empty one failed in NumPy's reshape, naming no path."""
    _refusal(_save(tmp_path, _array(shape, raw)), "['x']: NumPy array",
             words)


def test_counter_holding_numpy_data_stays_a_mapping(tmp_path):
    """Rebuilding it from pairs made Counter count the pairs."""
    loaded = load_checkpoint_file(_save(
        tmp_path, collections.Counter(a=np.float64(2.5))))['x']
    assert loaded == collections.Counter(a=2.5)


# --- genuine checkpoints still load -----------------------------------------


def _runner_like_checkpoint() -> dict:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                torch.nn.Linear(24, 2))
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [3, 5])
    model(torch.ones(2, 3, 5, 4)).sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance('crafted_tensors_genuine')
    for i in range(3):
        hub.update_scalar('train/loss', np.float32(i))
    hub.update_info('seed', np.int64(7))
    return dict(
        meta=dict(epoch=1, classes=('a', 'b')), state_dict=model.state_dict(),
        optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
        message_hub=hub.state_dict(), expanded=torch.zeros(1).expand(10),
        rng=(torch.get_rng_state(), np.random.get_state(), random.getstate()),
        transposed=torch.arange(12.).reshape(3, 4).t(), data=b'\x00' * 9,
        half=torch.ones(2, dtype=torch.float16), device=torch.device('cpu'),
        dtype=torch.float16, size=torch.Size([2]), number=complex(1, 2))


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_genuine_runner_checkpoint_loads_unchanged(tmp_path, legacy):
    """Everything a runner, its optimizer, scheduler, message hub and RNG
    states write passes the narrower checks (views included)."""
    saved = _runner_like_checkpoint()
    path = str(tmp_path / 'genuine.pth')
    torch.save(saved, path, _use_new_zipfile_serialization=not legacy)
    loaded = load_checkpoint_file(path)
    for key in ('transposed', 'expanded', 'half'):
        assert torch.equal(loaded[key], saved[key])
    assert loaded['state_dict']._metadata == saved['state_dict']._metadata
    assert loaded['scheduler']['milestones'] == collections.Counter([3, 5])
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1
    np.testing.assert_array_equal(loaded['rng'][1][1], saved['rng'][1][1])
    assert loaded['data'] == saved['data'] and loaded['number'] == 1 + 2j
