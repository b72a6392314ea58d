"""Issue 17: what the safe reader returns is plain data, every malformed
file gets a named error, and no crafted file crashes the process.

Payloads that would crash or read memory if they got through run in a
subprocess, which must end with a named refusal (exit status 1), never a
signal; MMRazor is imported there first, as in every real run, because
it raises the recursion limit to 2**20 (so recursive code overflows the C
stack instead of raising RecursionError).
"""
import collections
import io
import pickle
import subprocess
import sys
import textwrap
import threading
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from utils import subprocess_env
from dctkd_mm.compat import (CheckpointReadError, UnsafeCheckpointError,
                             load_checkpoint_file)
from dctkd_mm.compat.safe_load import checkpoint_unpickling

DEPTH = 300_000


# --- crafted files ---------------------------------------------------------


def _array_interface_dict(typestr: str, shape: int) -> collections.OrderedDict:
    """An OrderedDict that NumPy would read as an array at address 8."""
    od = collections.OrderedDict(a=1)
    od.__dict__['__array_interface__'] = dict(
        typestr=typestr, shape=(shape, ), data=(8, False), version=3)
    return od


def _history_buffer_holding(value) -> HistoryBuffer:
    buffer = HistoryBuffer()
    buffer.update(1.0)
    buffer.__dict__['_log_history'] = value
    return buffer


class _Forged:
    """Pickles as ``func(*args)`` (+ ``BUILD`` with ``state``)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args, self.state)


def _checkpoint(payload) -> dict:
    return dict(meta=dict(epoch=1, iter=4), state_dict={}, x=payload)


def _zip_with_pickle(path, data_pkl: bytes) -> str:
    """A genuine zip checkpoint whose data.pkl is replaced by ``data_pkl``
    (CRCs right, so only the pickle is at fault)."""
    buffer = io.BytesIO()
    torch.save({}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith('/data.pkl'):
                data = data_pkl
            dst.writestr(info, data)
    return str(path)


def _legacy_with_pickle(path, main_pickle: bytes) -> str:
    """A legacy (non-zip) checkpoint around ``main_pickle``."""
    head = b''.join(
        pickle.dumps(v, protocol=2)
        for v in (0x1950a86a20f9469cfc6c, 1001,
                  dict(protocol_version=1001, little_endian=True,
                       type_sizes=dict(short=2, int=4, long=4))))
    with open(path, 'wb') as f:
        f.write(head + main_pickle + pickle.dumps([], protocol=2))
    return str(path)


# Only opcodes PyTorch's weights_only unpickler supports (no POP, no LIST):
# the lists built on the way stay on the stack, and the dict (memo 1) is
# fetched last so STOP returns it.
_DICT = b'\x80\x02}q\x01'
_SET_X_TO_MEMO_0 = b'h\x01X\x01\x00\x00\x00xh\x00s.'


def _deep_list_top_down(depth: int) -> bytes:
    """A list nested ``depth`` deep, each level filled after it was put
    inside its parent (the opcode pre-scan cannot see its depth; the walk
    after loading must)."""
    return _DICT + b']q\x00q\x02' + b'h\x00]q\x00a' * depth + \
        b'h\x01X\x01\x00\x00\x00xh\x02s.'


def _deep_list_bottom_up(depth: int) -> bytes:
    return _DICT + b']q\x00' + b']h\x00aq\x00' * depth + _SET_X_TO_MEMO_0


def _deep_tuple_key(depth: int) -> bytes:
    """A dict whose key is a tuple nested ``depth`` deep: hashing it while
    the dict is filled overflows the C stack (CPython #154318)."""
    return b'\x80\x02}' + b')' + b'\x85' * depth + b'K\x01s.'


def _deep_list_as_numpy_scalar_data(depth: int) -> bytes:
    """A NumPy scalar record whose data is a top-down list ``depth`` deep
    (refused by the record's own check, which must not format it)."""
    return (_DICT + b']q\x00q\x02' + b'h\x00]q\x00a' * depth +
            b'h\x01X\x01\x00\x00\x00x'
            b'cnumpy._core.multiarray\nscalar\n'
            b'cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R'
            b'h\x02\x86Rs.')


# --- plain data only -------------------------------------------------------


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_attribute_planted_on_an_allowed_container_is_refused(tmp_path,
                                                              legacy):
    """F1: an OrderedDict carrying ``__array_interface__`` inside a
    HistoryBuffer (which NumPy would read as 512 words of heap) is refused
    before any NumPy call, naming the file and the path of the value."""
    path = str(tmp_path / 'f1.pth')
    torch.save(_checkpoint(_history_buffer_holding(
        _array_interface_dict('<u8', 512))), path,
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
    torch.save(_checkpoint(tensor), path)
    with pytest.raises(UnsafeCheckpointError, match='tensor carrying'):
        load_checkpoint_file(path)


def test_counter_with_attributes_is_refused_plain_counter_loads(tmp_path):
    path = str(tmp_path / 'counter.pth')
    torch.save(_checkpoint(collections.Counter([25, 50])), path)
    assert load_checkpoint_file(path)['x'] == collections.Counter([25, 50])
    evil = _Forged(collections.Counter, ({25: 1}, ),
                   state={'__array_interface__': {}})
    torch.save(_checkpoint(evil), path)
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
    state._metadata = _array_interface_dict('<u8', 8)
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
    torch.save(_checkpoint(buffer), path)
    with pytest.raises(UnsafeCheckpointError, match='HistoryBuffer'):
        load_checkpoint_file(path)


def test_cycles_are_refused(tmp_path):
    loop = []
    loop.append(loop)
    path = str(tmp_path / 'cycle.pth')
    torch.save(_checkpoint(loop), path)
    with pytest.raises(UnsafeCheckpointError, match='contains itself'):
        load_checkpoint_file(path)


# --- never a signal --------------------------------------------------------

_LOAD_IN_SUBPROCESS = textwrap.dedent("""
    import sys
    import mmrazor  # raises the recursion limit to 2**20, as in real runs
    import dctkd_mm
    from dctkd_mm.compat import load_checkpoint_file, load_plain_pickle
    assert sys.getrecursionlimit() >= 2**20
    for path in sys.argv[1:]:
        try:
            if path.endswith('.pickle'):
                load_plain_pickle(open(path, 'rb').read(), path)
            else:
                load_checkpoint_file(path)
            print(path, 'LOADED', flush=True)
        except Exception as exc:
            print(path, type(exc).__name__, str(exc).replace('\\n', ' '),
                  flush=True)
""")

#: name -> (build, depth, containers)
_PAYLOADS = {
    'list-top-down': (_deep_list_top_down, DEPTH, ('pth', 'pickle')),
    'list-bottom-up': (_deep_list_bottom_up, DEPTH,
                       ('pth', 'legacy', 'pickle')),
    'tuple-as-key': (_deep_tuple_key, DEPTH, ('pth', 'legacy', 'pickle')),
    'scalar-data': (_deep_list_as_numpy_scalar_data, DEPTH, ('pth', )),
}


def _write_payload(root, name: str, container: str) -> str:
    build, depth, _ = _PAYLOADS[name]
    data = build(depth)
    path = str(root / f'{name}.{container}')
    if container == 'pth':
        return _zip_with_pickle(path, data)
    if container == 'legacy':
        return _legacy_with_pickle(path, data)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def _refused_in_subprocess(paths):
    """{path: (error class, message)} from one subprocess reading each
    file, which must finish (a signal would end it early)."""
    proc = subprocess.run([sys.executable, '-c', _LOAD_IN_SUBPROCESS, *paths],
                          capture_output=True, text=True,
                          env=subprocess_env(), timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    outcome = {}
    for line in proc.stdout.splitlines():
        path, error, message = (line.split(' ', 2) + [''])[:3]
        outcome[path] = (error, message)
    assert set(outcome) == set(paths), proc.stdout[-3000:]
    return outcome


@pytest.fixture(scope='module')
def crafted_outcomes(tmp_path_factory):
    """Every crafted payload of this module, read in one subprocess."""
    root = tmp_path_factory.mktemp('crafted')
    paths = {}
    for typestr in ('|O', '<u8'):
        path = str(root / f'f1{typestr[0] == "|"}.pth')
        torch.save(_checkpoint(_history_buffer_holding(
            _array_interface_dict(typestr, 512))), path)
        paths[('array-interface', typestr)] = path
    for name, (_, _, containers) in _PAYLOADS.items():
        for container in containers:
            paths[(name, container)] = _write_payload(root, name, container)
    outcome = _refused_in_subprocess(list(paths.values()))
    return {key: outcome[path] + (path, ) for key, path in paths.items()}


@pytest.mark.parametrize('typestr', ['|O', '<u8'])
def test_array_interface_payload_ends_in_a_refusal_not_a_signal(
        crafted_outcomes, typestr):
    """F1 as the attack run used it: ``'|O'`` would make NumPy follow an
    attacker's pointer (SIGSEGV), ``'<u8'`` read the heap."""
    error, message, path = crafted_outcomes[('array-interface', typestr)]
    assert error == 'UnsafeCheckpointError' and path in message
    assert 'OrderedDict carrying instance attributes' in message


@pytest.mark.parametrize('name,container', [
    (name, container) for name, (_, _, containers) in _PAYLOADS.items()
    for container in containers])
def test_deep_nesting_ends_in_a_refusal_not_a_signal(crafted_outcomes, name,
                                                     container):
    """F3/F4: 300,000 levels, in zip and legacy checkpoints and in the
    plain-data reader CIFAR's batch files go through. Plain ``torch.load``
    crashes on the tuple key; here every form is refused by name, and the
    message formats nothing of the payload."""
    error, message, path = crafted_outcomes[(name, container)]
    expected = ('UnsafePickleError' if container == 'pickle' else
                'UnsafeCheckpointError')
    assert error == expected and path in message, (error, message[:500])
    assert len(message) < 3000
    if name == 'scalar-data':
        assert 'NumPy data given as a list of 1 items' in message
    else:
        assert 'deeper than 100 levels' in message


# --- integrity and named errors --------------------------------------------


def test_zeroed_bytes_inside_a_tensor_record_fail_the_crc_check(tmp_path):
    """F9: 4 KiB zeroed in the middle of a tensor's data."""
    path = str(tmp_path / 'weights.pth')
    torch.save(dict(state_dict=dict(w=torch.arange(1, 4097.))), path)
    raw = bytearray(open(path, 'rb').read())
    start = raw.index(torch.arange(1, 4097.).numpy().tobytes()[:64]) + 4096
    raw[start:start + 4096] = bytes(4096)
    with open(path, 'wb') as f:
        f.write(raw)
    with pytest.raises(CheckpointReadError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message and 'CRC' in message and 'data/0' in message


@pytest.mark.parametrize('payload', [
    _Forged(torch._utils._rebuild_tensor_v2, ('x', 0, (2, ), (1, ))),
    _Forged(torch.device, ('cpu', 2**70)),
    _Forged(collections.OrderedDict, (5, )),
    _Forged(torch.device, ('nonsense', )),
], ids=['rebuild-bad-args', 'device-index-overflow', 'ordereddict-bad-arg',
        'bad-device'])
def test_malformed_records_raise_a_named_read_error(tmp_path, payload):
    """F15: what torch.load raises for these (TypeError, OverflowError,
    RuntimeError, ...) becomes CheckpointReadError naming the file."""
    path = str(tmp_path / 'malformed.pth')
    torch.save(_checkpoint(payload), path)
    with pytest.raises((CheckpointReadError, UnsafeCheckpointError)) as info:
        load_checkpoint_file(path)
    assert path in str(info.value)


def test_garbage_pickle_in_a_valid_zip_is_a_read_error(tmp_path):
    path = _zip_with_pickle(tmp_path / 'garbage.pth', b'\x80\x02\xff\xfe.')
    with pytest.raises(CheckpointReadError, match='garbage.pth'):
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


# --- every entry point, and the auto-resume fallback -----------------------


@pytest.fixture
def array_interface_ckpt(tmp_path):
    path = str(tmp_path / 'f1.pth')
    torch.save(_checkpoint(_history_buffer_holding(
        _array_interface_dict('<u8', 512))), path)
    return path


def test_array_interface_payload_is_refused_at_every_entry_point(
        array_interface_ckpt, distill_config, tmp_path):
    """F1 through ``teacher_ckpt``, ``init_cfg`` Pretrained, MMEngine's
    loader (``load_from`` / ``--resume`` call it), the converter and the
    export tool: each ends in the same named refusal."""
    import copy

    from mmengine.config import Config
    from mmengine.runner import CheckpointLoader
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmrazor.registry import MODELS

    from dctkd_mm.apis.export_cli import main as export_main
    from dctkd_mm.model_converters.convert_cli import main as convert_main
    path = array_interface_ckpt
    cfg = Config.fromfile(distill_config)
    teacher = copy.deepcopy(cfg.model)
    teacher.teacher_ckpt = path
    student = copy.deepcopy(cfg.model.architecture.cfg)
    student.init_cfg = dict(type='Pretrained', checkpoint=path)
    attempts = {
        'teacher_ckpt': lambda: MODELS.build(teacher),
        'init_cfg': lambda: PRETRAIN_MODELS.build(student).init_weights(),
        'CheckpointLoader': lambda: CheckpointLoader.load_checkpoint(path),
        'converter': lambda: convert_main([path, str(tmp_path / 'c.pth')]),
        'export': lambda: export_main(
            [distill_config, path, '--out-dir', str(tmp_path / 'out')]),
    }
    for entry, attempt in attempts.items():
        with pytest.raises(UnsafeCheckpointError) as info:
            attempt()
        assert path in str(info.value) and 'instance attributes' in str(
            info.value), entry


def test_auto_resume_fallback_skips_a_checkpoint_failing_its_crc(tmp_path):
    """F9 on auto-resume: the newest ``iter_*.pth`` has a zeroed block;
    the fallback takes the one before it (the reader's own check)."""
    from dctkd_mm.engine.hooks.atomic_checkpoint_hook import \
        newest_readable_checkpoint
    weights = torch.arange(1, 4097.)
    for step in (1, 2):
        torch.save(dict(state_dict=dict(w=weights * step)),
                   str(tmp_path / f'iter_{step}.pth'))
    newest = tmp_path / 'iter_2.pth'
    raw = bytearray(newest.read_bytes())
    start = raw.index((weights * 2).numpy().tobytes()[:64]) + 4096
    raw[start:start + 4096] = bytes(4096)
    newest.write_bytes(raw)
    assert newest_readable_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_1.pth')


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
