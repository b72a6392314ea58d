"""Issue 17 F2: the generator state a resume restores comes from the
checkpoint, so nothing of it reaches NumPy, ``random`` or torch before its
exact type and range are proven. A crafted value is refused with
``CorruptCheckpointStateError`` naming the checkpoint key and showing only
its type, and a refused restore leaves every generator as it was.
"""
import copy
import os.path as osp
import random
import subprocess
import traceback
from collections import OrderedDict

import numpy as np
import pytest
import torch

import utils
from dctkd_mm.engine.runner.rng_state import (CorruptCheckpointStateError,
                                              get_rng_state, set_rng_state)

KEY = 'message_hub.runtime_info.exact_resume_state.rng'
HUGE = 2**40  # fits no uint32 key; must never be shown in a message


class SneakyInt(int):
    """An int subclass: ``__index__``/``__int__`` could run anything."""


def _python(state, transform):
    version, internal, gauss = state['python']
    state['python'] = transform(version, list(internal), gauss)


def _set(path, value):
    def change(state):
        target = state
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


def _numpy(index, value):
    def change(state):
        numpy = list(state['numpy'])
        numpy[index] = value
        state['numpy'] = tuple(numpy)
    return change


BAD = {
    # NumPy: (kind, keys, pos, has_gauss, cached)
    'numpy-keys-ordereddict': (_numpy(1, OrderedDict(a=1)), 'numpy[1]',
                               'OrderedDict'),
    'numpy-keys-ndarray': (_numpy(1, np.zeros(624, dtype=np.uint32)),
                           'numpy[1]', 'ndarray'),
    'numpy-keys-huge-ints': (_numpy(1, [HUGE] * 624), 'numpy[1]',
                             'out of range at index 0'),
    'numpy-keys-623': (_numpy(1, tuple(range(623))), 'numpy[1]',
                       '623 items'),
    'numpy-keys-float': (_numpy(1, [1.0] * 624), 'numpy[1]',
                         'float at index 0'),
    'numpy-pos-bool': (_numpy(2, True), 'numpy[2]', 'bool'),
    'numpy-pos-int-subclass': (_numpy(2, SneakyInt(3)), 'numpy[2]',
                               'SneakyInt'),
    'numpy-pos-625': (_numpy(2, 625), 'numpy[2]', 'out of that range'),
    'numpy-has-gauss-2': (_numpy(3, 2), 'numpy[3]', 'out of that range'),
    'numpy-cached-int': (_numpy(4, 0), 'numpy[4]', 'int'),
    'numpy-kind': (_numpy(0, 'PCG64'), 'numpy[0]', 'another string'),
    'numpy-not-a-tuple': (_set(['numpy'], {'keys': 1}), 'numpy', 'dict'),
    # Python: (3, 624 words + position, gauss)
    'python-version-2': (
        lambda s: _python(s, lambda v, i, g: (2, i, g)), 'python[0]', 'int'),
    'python-624-items': (
        lambda s: _python(s, lambda v, i, g: (v, i[:624], g)), 'python[1]',
        '624 items'),
    'python-negative-word': (
        lambda s: _python(s, lambda v, i, g: (v, [-1] + i[1:], g)),
        'python[1]', 'out of range at index 0'),
    'python-position-huge': (
        lambda s: _python(s, lambda v, i, g: (v, i[:624] + [HUGE], g)),
        'python[1][624]', 'out of that range'),
    'python-gauss-str': (
        lambda s: _python(s, lambda v, i, g: (v, i, '0.5')), 'python[2]',
        'str'),
    # torch: a CPU uint8 tensor of the generator's size
    'torch-float-tensor': (lambda s: s.update(torch=s['torch'].float()),
                           'torch', 'float32'),
    'torch-wrong-numel': (lambda s: s.update(torch=s['torch'][:100]),
                          'torch', 'shape (100,)'),
    'torch-list': (lambda s: s.update(torch=s['torch'].tolist()), 'torch',
                   'list'),
    'torch-missing': (lambda s: s.pop('torch'), 'torch', 'nothing'),
}


@pytest.mark.parametrize('case', sorted(BAD))
def test_bad_generator_state_is_refused_by_key_and_type(case):
    change, where, shown = BAD[case]
    state = copy.deepcopy(get_rng_state())
    change(state)
    before = get_rng_state()
    with pytest.raises(CorruptCheckpointStateError) as info:
        set_rng_state(state)
    message = str(info.value)
    assert f'{KEY}.{where} should be' in message, message
    assert shown in message, message
    assert str(HUGE) not in message and '0.5' not in message
    # Validated before anything is set: no generator moved.
    after = get_rng_state()
    assert after['python'] == before['python']
    assert after['numpy'] == before['numpy']
    assert torch.equal(after['torch'], before['torch'])


def test_state_that_is_not_a_dict_is_refused():
    with pytest.raises(CorruptCheckpointStateError, match='holds a list'):
        set_rng_state([get_rng_state()])


def test_valid_state_restores_every_generator_even_with_lists():
    """What a checkpoint round trip may do to the nesting (tuples to
    lists) is accepted; the draws continue exactly."""
    state = get_rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    version, internal, gauss = state['python']
    state['python'] = [version, list(internal), gauss]
    state['numpy'] = list(state['numpy'])
    set_rng_state(state)
    assert (random.random(), np.random.rand(),
            torch.rand(1).item()) == expected


# --- a crafted checkpoint through a real --resume ----------------------------


@pytest.fixture(scope='module')
def real_checkpoint(tiny_data, tmp_path_factory):
    """iter_2.pth of tools/train.py on the tiny flagship config (random
    teacher, one epoch of 4 iterations)."""
    root = tmp_path_factory.mktemp('rng_run')
    config = utils.write_tiny_distill_config(
        str(root / 'cfg.py'), tiny_data, seed=0,
        checkpoint_hook=',\n    checkpoint=dict(interval=2, by_epoch=False)')
    utils.train_in_process([config, '--work-dir', str(root / 'work')])
    return config, str(root / 'work' / 'iter_2.pth')


def _array_interface_payload():
    """An OrderedDict that NumPy would read as 512 uint64 words at address
    8: were it ever converted, the resumed process would die of SIGSEGV
    (never silently read memory)."""
    payload = OrderedDict()
    payload.__dict__['__array_interface__'] = dict(
        version=3, typestr='<u8', shape=(512, ), data=(8, False))
    return payload


@pytest.mark.slow
@pytest.mark.parametrize('payload, names, in_process', [
    (_array_interface_payload, ('CorruptCheckpointStateError',
                                'UnsafeCheckpointError'), False),
    (lambda: [HUGE] * 624, ('CorruptCheckpointStateError', ), True),
], ids=['ordereddict-array-interface', 'huge-ints'])
def test_crafted_numpy_keys_end_in_a_named_refusal(real_checkpoint,
                                                   tmp_path, capfd, payload,
                                                   names, in_process):
    """A genuine checkpoint whose saved NumPy generator keys are replaced
    (the issue's F2 payload, and keys out of uint32 range): ``--resume``
    ends in an error naming the refusal, not a signal. The payload may be
    refused by the checkpoint reader (it carries an instance attribute) or
    by the generator-state check; either way, by name.

    The F2 payload, which would kill a process that converted it
    (SIGSEGV), resumes in a subprocess of tools/train.py that must exit
    with an error; the huge keys, which cannot crash anything, resume
    in this process (tools/train.py's ``main``), whose uncaught exception
    is what makes that process exit with an error."""
    config, path = real_checkpoint
    checkpoint = torch.load(path, weights_only=False)  # written above
    rng = checkpoint['message_hub']['runtime_info']['exact_resume_state'][
        'rng']
    numpy = list(rng['numpy'])
    numpy[1] = payload()
    rng['numpy'] = tuple(numpy)
    crafted = str(tmp_path / 'iter_2.pth')
    torch.save(checkpoint, crafted)
    work_dir = str(tmp_path / 'work')
    if in_process:
        capfd.readouterr()
        with pytest.raises(Exception) as info:
            utils.train_in_process(
                [config, '--work-dir', work_dir, '--resume', crafted])
        assert info.type.__name__ in names, info.value
        captured = capfd.readouterr()
        output = (captured.out + captured.err + ''.join(
            traceback.format_exception(info.type, info.value, info.tb)))
    else:
        proc = subprocess.run(
            utils.train_command(config, work_dir, '--resume', crafted),
            cwd=utils.REPO_ROOT, env=utils.subprocess_env(),
            capture_output=True, text=True, timeout=utils.TIMEOUT)
        output = proc.stdout + proc.stderr
        assert proc.returncode > 0, (proc.returncode, output[-3000:])
    assert any(name in output for name in names), output[-3000:]
    if 'CorruptCheckpointStateError' in output:
        assert f'{KEY}.numpy[1]' in output
    assert str(HUGE) not in output
    assert not osp.exists(str(tmp_path / 'work' / 'iter_4.pth'))
