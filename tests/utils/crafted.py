"""Crafted checkpoint payloads (issue 17): pickles that forge calls
(``Forged``), arrays and history buffers, wrapped in zip or legacy
checkpoints."""
import collections
import io
import pickle
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
