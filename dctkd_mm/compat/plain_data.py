"""Prove that what an unpickler produced is plain data, and finish it.

PyTorch's ``weights_only`` unpickler (and the restricted unpickler for
data files) refuse globals outside their allowlists, but what they admit
is not inert: ``BUILD`` sets instance attributes on an ``OrderedDict`` or a
tensor, so a file can plant ``__array_interface__`` on one and make NumPy
read or follow arbitrary memory as soon as anything converts it. Deep
nesting crashes the interpreter in any recursive consumer (``repr``,
``copy.deepcopy``, our own walks) once MMRazor has raised the recursion
limit to 2**20.

:func:`to_plain_data` walks the loaded object iteratively (no recursion),
and returns it with every stand-in replaced by the real, validated value
(NumPy arrays and scalars, ``HistoryBuffer``); it raises
:class:`~.numpy_unpickling.UnsafeDataError` naming the path of the first
value that is not exactly one of:

* ``dict``, ``OrderedDict``, ``Counter``, ``list``, ``tuple``, ``set``,
  ``frozenset``;
* ``str``, ``bytes``, ``bytearray``, ``int``, ``float``, ``complex``,
  ``bool``, ``None``;
* ``torch.Tensor`` / ``torch.nn.Parameter``, ``torch.Size``,
  ``torch.dtype``, ``torch.device``, ``torch.layout``;
* the NumPy and ``HistoryBuffer`` stand-ins, which are rebuilt here;

or that carries instance attributes, sits deeper than
:data:`MAX_NESTING`, or contains itself.
"""
from collections import Counter, OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import torch

from .describe import describe
from .history_buffer_unpickling import (PendingHistoryBuffer,
                                        StatisticsMethodName,
                                        build_history_buffer)
from .numpy_unpickling import (NUMPY_RECORD_TYPES, UnsafeDataError,
                               UnsafeNumpyData, _PendingDtype,
                               build_numpy_record)

#: Deepest nesting a checkpoint or data file may have. MMEngine checkpoints
#: are under 10 deep (checkpoint > message_hub > runtime_info > ...).
MAX_NESTING = 100

_LEAF_TYPES = frozenset((str, bytes, bytearray, int, float, complex, bool,
                         type(None), torch.Size, torch.dtype, torch.device,
                         torch.layout, StatisticsMethodName))
_TENSOR_TYPES = frozenset((torch.Tensor, torch.nn.Parameter))
_CONTAINER_TYPES = frozenset((dict, list, tuple, set, frozenset))
#: Python-level dict subclasses PyTorch's unpickler builds (MMEngine saves
#: ``MultiStepLR.milestones`` as a Counter); BUILD can give them attributes.
_ATTRIBUTE_BEARING_MAPPINGS = frozenset((OrderedDict, Counter))
_MAPPING_TYPES = frozenset((dict, )) | _ATTRIBUTE_BEARING_MAPPINGS


class _Path:
    """Where a value sits, for messages; built into text only on error."""
    __slots__ = ('parent', 'step')

    def __init__(self, parent: Optional['_Path'], step: str) -> None:
        self.parent, self.step = parent, step

    def __str__(self) -> str:
        steps: List[str] = []
        node: Optional[_Path] = self
        while node is not None:
            steps.append(node.step)
            node = node.parent
        return ''.join(reversed(steps)) or '<root>'


def _only_state_dict_metadata(mapping) -> bool:
    """``Module.state_dict()`` sets one attribute on the OrderedDict it
    returns, ``_metadata`` (a dict of per-module versions, which
    ``load_state_dict`` reads); nothing else carries any."""
    attributes = mapping.__dict__
    return not attributes or (
        type(mapping) is OrderedDict and list(attributes) == ['_metadata']
        and type(attributes['_metadata']) in (dict, OrderedDict))


def _children(value) -> List[Tuple[Any, str]]:
    kind = type(value)
    if kind in _MAPPING_TYPES:
        out = []
        if kind is OrderedDict and value.__dict__:
            out.append((value.__dict__['_metadata'], '._metadata'))
        for key, item in value.items():
            out.append((key, ' (a key)'))
            out.append((item, f'[{describe(key)}]'))
        return out
    if kind is PendingHistoryBuffer:
        return [(value.state, '.<HistoryBuffer state>')]
    if kind in (list, tuple):
        return [(item, f'[{i}]') for i, item in enumerate(value)]
    return [(item, '{item}') for item in value]  # set, frozenset


def _check_type(value, path: _Path) -> str:
    """'leaf', 'container', 'record' (a stand-in) or raise."""
    kind = type(value)
    if kind in _LEAF_TYPES:
        return 'leaf'
    if kind in _TENSOR_TYPES:
        # Instance attributes (BUILD through _rebuild_from_type_v2) could
        # give NumPy an __array_interface__; hooks would run code later.
        if value.__dict__ or getattr(value, '_backward_hooks', None):
            raise UnsafeDataError(
                f'{path}: a tensor carrying attributes or hooks '
                f'({describe(sorted(value.__dict__)[:5])}); a saved tensor '
                'has none')
        return 'leaf'
    if kind in _ATTRIBUTE_BEARING_MAPPINGS and not _only_state_dict_metadata(
            value):
        raise UnsafeDataError(
            f'{path}: an {kind.__name__} carrying instance attributes '
            f'({len(value.__dict__)}); a saved {kind.__name__} has none but '
            "a state dict's _metadata (a dict), and an attribute such as "
            '__array_interface__ would make NumPy read arbitrary memory')
    if kind in _CONTAINER_TYPES or kind in _ATTRIBUTE_BEARING_MAPPINGS:
        return 'container'
    if kind in NUMPY_RECORD_TYPES or kind is PendingHistoryBuffer:
        return 'record'
    raise UnsafeDataError(
        f'{path}: {describe(value)}, which is not plain data (tensors, '
        'dict/OrderedDict/list/tuple/set, str, bytes, numbers, bool, None, '
        'plain NumPy arrays)')


def _rebuilt(value, done: Dict[int, Any], path: _Path):
    """``value`` (a container or a record) with its children replaced by
    their finished forms; the same object where nothing changed."""
    kind = type(value)
    if kind in NUMPY_RECORD_TYPES:
        return build_numpy_record(value, lambda d: _dtype(d, done, path))
    if kind is PendingHistoryBuffer:
        value.state = done[id(value.state)]
        return build_history_buffer(
            value, lambda message: UnsafeDataError(f'{path}: {message}'))
    if kind in (list, tuple, set, frozenset):
        items = [done[id(item)] for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        try:
            return kind(items)
        except TypeError:  # an unhashable NumPy array in a set
            raise UnsafeDataError(f'{path}: a set holding NumPy data')
    pairs = [(done[id(k)], done[id(v)]) for k, v in value.items()]
    metadata = value.__dict__.get('_metadata') if kind is OrderedDict \
        else None
    if all(a is k and b is v for (a, b), (k, v) in zip(
            pairs, value.items())) and (metadata is None
                                        or done[id(metadata)] is metadata):
        return value
    try:
        rebuilt = kind(pairs)
    except TypeError:
        raise UnsafeDataError(f'{path}: a dict keyed by NumPy data')
    if metadata is not None:
        rebuilt._metadata = done[id(metadata)]
    return rebuilt


def _dtype(pending, done: Dict[int, Any], path: _Path):
    if type(pending) is not _PendingDtype:
        raise UnsafeNumpyData(
            f'{path}: NumPy data whose dtype is {describe(pending)}, not a '
            'numpy dtype')
    key = ('dtype', id(pending))
    if key not in done:
        done[key] = pending.build()
    return done[key]


def to_plain_data(root: Any, max_nesting: int = MAX_NESTING) -> Any:
    """``root`` proven plain, with stand-ins built (see module doc)."""
    done: Dict[Any, Any] = {}
    on_path = set()
    # (value, depth, path, children_done)
    stack = [(root, 0, _Path(None, ''), False)]
    while stack:
        value, depth, path, expanded = stack.pop()
        key = id(value)
        if expanded:
            on_path.discard(key)
            done[key] = _rebuilt(value, done, path)
            continue
        if key in done:
            continue
        if key in on_path:
            raise UnsafeDataError(f'{path}: a container that contains '
                                  'itself; saved data has no cycles')
        if depth > max_nesting:
            raise UnsafeDataError(
                f'{path}: nested deeper than {max_nesting} levels; saved '
                'checkpoints and data files are far shallower')
        if _check_type(value, path) == 'leaf':
            done[key] = value
            continue
        if type(value) in NUMPY_RECORD_TYPES:
            stack.append((value, depth, path, True))
            continue  # build() checks its recorded fields' exact types
        on_path.add(key)
        stack.append((value, depth, path, True))
        for child, step in _children(value):
            stack.append((child, depth + 1, _Path(path, step), False))
    return done[id(root)]
