"""Crafted checkpoint payloads (issue 17): pickles that forge calls
(``Forged``), arrays and history buffers, wrapped in zip or legacy
checkpoints; hand-written opcode streams (a list nested top-down, calls
of it, NEWOBJ without BUILD, a punycode call) and a legacy file split
into its pickles."""
import collections
import io
import pickle
import pickletools
import zipfile

import torch


# --- crafted checkpoint files (issue 17; tests/reliability/
# test_reliability_plain_data.py and test_reliability_crafted_files.py) ---
def array_interface_dict(typestr: str, shape: int) -> collections.OrderedDict:
    """An OrderedDict that NumPy would read as an array at address 8."""
    od = collections.OrderedDict(a=1)
    od.__dict__['__array_interface__'] = dict(
        typestr=typestr, shape=(shape, ), data=(8, False), version=3)
    return od


def history_buffer_holding(value):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.0)
    buffer.__dict__['_log_history'] = value
    return buffer


class Forged:
    """Pickles as ``func(*args)`` (+ ``BUILD`` with ``state``)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args, self.state)


def checkpoint_with(payload) -> dict:
    return dict(meta=dict(epoch=1, iter=4), state_dict={}, x=payload)


def zip_with_pickle(path, data_pkl: bytes) -> str:
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


def legacy_with_pickle(path, main_pickle: bytes) -> str:
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
def deep_list_then(depth: int, tail: bytes) -> bytes:
    """A pickle that builds a dict (memo 1) and a list nested ``depth``
    deep top-down (memo 2: each level filled after it was put inside its
    parent, so no depth count at build time sees it), then ``tail``."""
    return b'\x80\x02}q\x01]q\x00q\x02' + b'h\x00]q\x00a' * depth + tail


def global_op(name: str) -> bytes:
    """The GLOBAL opcode for ``'module.name'``."""
    module, attr = name.rsplit('.', 1)
    return b'c' + module.encode() + b'\n' + attr.encode() + b'\n'


def new_object_pickle(name: str) -> bytes:
    """``{'x': cls.__new__(cls)}`` (NEWOBJ, no BUILD) for the global
    ``name``: a stand-in whose __init__ never ran."""
    return b'\x80\x02}X\x01\x00\x00\x00x' + global_op(name) + b')\x81s.'


def legacy_parts(path) -> list:
    """A legacy checkpoint's five pickles and, last, its storage data."""
    raw = open(path, 'rb').read()
    stream, parts = io.BytesIO(raw), []
    for _ in range(5):
        start = stream.tell()
        for _ in pickletools.genops(stream):
            pass
        parts.append(raw[start:stream.tell()])
    return parts + [raw[stream.tell():]]


def empty_zip_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save({}, buffer)
    return buffer.getvalue()


def call_deep_list(depth: int) -> bytes:
    """REDUCE with the deep list as the callable: PyTorch's unpickler puts
    the refused callable in its message, and ``repr`` of it overflows the
    C stack."""
    return deep_list_then(depth, b'h\x02)R.')


def new_deep_list(depth: int) -> bytes:
    return deep_list_then(depth, b'h\x02)\x81.')


def object_state_deep(depth: int) -> bytes:
    """``_rebuild_from_type_v2(OrderedDict, OrderedDict, (), (deep, 1,
    2))``: torch's ``_set_obj_state`` formats a state of the wrong length
    into its error message."""
    return deep_list_then(
        depth, global_op('torch._tensor._rebuild_from_type_v2') + b'(' +
        global_op('collections.OrderedDict') * 2 + b')h\x02K\x01K\x02\x87tR.')


def punycode_call(length: int) -> bytes:
    """``_codecs.encode(text, 'punycode')``: quadratic, hours for this
    length (8,000 characters take 17 s)."""
    text = ''.join(chr(0x100 + i) for i in range(length)).encode()
    return (b'\x80\x02}X\x01\x00\x00\x00x' + global_op('_codecs.encode') +
            b'X' + len(text).to_bytes(4, 'little') + text +
            b'X\x08\x00\x00\x00punycode\x86Rs.')


def process_wide_safe_globals() -> list:
    """``(payload, name)`` for classes PyTorch itself adds to its
    process-wide allowlist once ``torch.distributed.tensor`` is imported
    (MMEngine imports it)."""
    import traceback

    import torch.distributed.tensor  # noqa: F401 registers them
    from torch.distributed.device_mesh import DeviceMesh
    return [(Forged(DeviceMesh, ('cpu', [0])), 'device_mesh.DeviceMesh'),
            (Forged(traceback.StackSummary, ()), 'traceback.StackSummary'),
            (Forged(MemoryError, ('x', )), 'builtins.MemoryError')]
