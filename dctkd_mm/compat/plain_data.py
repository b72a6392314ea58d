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
:data:`MAX_NESTING`, or contains itself. A tensor must be dense (strided,
not meta, quantized, nested or sparse), carry no attributes, hooks or
gradient, and its storage must hold every element its view reads.
"""
from collections import Counter, OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Tuple

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
#: Most elements a tensor may show beyond what its storage holds (a
#: stride-0 view of one number can claim 2**40 elements; a consumer that
#: sums or copies it hangs or runs out of memory).
_MAX_REPEATED_ELEMENTS = 2**24
#: Python-level dict subclasses PyTorch's unpickler builds (MMEngine saves
#: ``MultiStepLR.milestones`` as a Counter); BUILD can give them attributes.
_ATTRIBUTE_BEARING_MAPPINGS = frozenset((OrderedDict, Counter))
_MAPPING_TYPES = frozenset((dict, )) | _ATTRIBUTE_BEARING_MAPPINGS


#: Steps of a path a message shows (the first and last halves).
_SHOWN_STEPS = 16


class _Path:
    """Where a value sits, for messages; built into text only on error."""
    __slots__ = ('parent', 'step')

    def __init__(self, parent: Optional['_Path'], step: str) -> None:
        self.parent, self.step = parent, step

    def __str__(self) -> str:
        steps: List[str] = []
        node: Optional[_Path] = self
        while node is not None:
            steps.append(_step_text(node.step))
            node = node.parent
        steps.reverse()
        if len(steps) > _SHOWN_STEPS:  # each step is bounded; so is this
            steps[_SHOWN_STEPS // 2:-_SHOWN_STEPS // 2] = ['...']
        return ''.join(steps) or '<root>'


def _only_state_dict_metadata(mapping) -> bool:
    """``Module.state_dict()`` sets one attribute on the OrderedDict it
    returns, ``_metadata`` (a dict of per-module versions, which
    ``load_state_dict`` reads); nothing else carries any."""
    attributes = mapping.__dict__
    return not attributes or (
        type(mapping) is OrderedDict and list(attributes) == ['_metadata']
        and type(attributes['_metadata']) in (dict, OrderedDict))


def _step_text(step) -> str:
    """A path step as text: kept as an index or a 1-tuple holding the
    key until a message needs it (formatting every step of a list of
    millions cost seconds and gigabytes)."""
    if type(step) is int:
        return f'[{step}]'
    if type(step) is tuple:
        return f'[{describe(step[0])}]'
    return step


def _children(value) -> Iterator[Tuple[Any, Any]]:
    """``(child, step)`` pairs, steps as :func:`_step_text` takes them."""
    kind = type(value)
    if kind in _MAPPING_TYPES:
        if kind is OrderedDict and value.__dict__:
            yield value.__dict__['_metadata'], '._metadata'
        for key, item in value.items():
            yield key, ' (a key)'
            yield item, (key, )
    elif kind is PendingHistoryBuffer:
        # NEWOBJ without BUILD leaves the slot unset.
        yield getattr(value, 'state', None), '.<HistoryBuffer state>'
    elif kind in (list, tuple):
        yield from zip(value, range(len(value)))
    else:
        yield from ((item, '{item}') for item in value)  # set, frozenset


def _check_type(value, path: _Path) -> str:
    """'leaf', 'container', 'record' (a stand-in) or raise."""
    kind = type(value)
    if kind in _LEAF_TYPES:
        return 'leaf'
    if kind in _TENSOR_TYPES:
        _check_tensor(value, path)
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


def _no_hooks(hooks) -> bool:
    """``torch.save`` pickles a tensor's hooks as an empty OrderedDict."""
    return hooks is None or (type(hooks) in (dict, OrderedDict) and not hooks
                             and not getattr(hooks, '__dict__', None))


def _check_tensor(value: torch.Tensor, path: _Path) -> None:
    """Refuse what no saved weight is: attributes (``__array_interface__``
    makes NumPy read arbitrary memory), hooks or a gradient (code run on
    backward), a layout other than dense, or a view reading beyond its
    storage or repeating it without bound."""
    if value.__dict__ or not _no_hooks(value._backward_hooks) or \
            value.grad is not None:
        raise UnsafeDataError(
            f'{path}: a tensor carrying attributes or hooks '
            f'({len(value.__dict__)} attributes, hooks '
            f'{describe(value._backward_hooks)}, gradient '
            f'{describe(value.grad)}); a saved tensor has none')
    if value.is_nested or value.layout is not torch.strided or \
            value.is_quantized or value.is_meta:
        raise UnsafeDataError(
            f'{path}: a {value.layout} tensor on {value.device.type} '
            f'(quantized: {value.is_quantized}, nested: {value.is_nested});'
            ' checkpoints hold dense tensors only')
    if value.numel() == 0:
        return
    held = value.untyped_storage().nbytes() // value.element_size()
    last = value.storage_offset() + sum(
        (n - 1) * s for n, s in zip(value.shape, value.stride()))
    if min(value.stride(), default=0) < 0 or last >= held or (
            value.numel() > max(held, _MAX_REPEATED_ELEMENTS)):
        raise UnsafeDataError(
            f'{path}: a tensor of shape {_shown(value.shape)}, strides '
            f'{_shown(value.stride())} and offset {value.storage_offset()} '
            f'over a storage of {held} elements; a saved tensor reads only '
            'its own storage and does not repeat it')


def _shown(dims) -> str:
    """A shape or strides, at most 8 of them (a file may give 10,000)."""
    dims = tuple(dims)
    return str(dims) if len(dims) <= 8 else (
        f'{str(dims[:8])[:-1]}, ... ({len(dims)} in all))')


def _rebuilt(value, done: Dict[int, Any], path: _Path):
    """``value`` (a container or a record) with its children replaced by
    their finished forms; the same object where nothing changed."""
    kind = type(value)
    if kind in NUMPY_RECORD_TYPES:
        try:
            return build_numpy_record(value, lambda d: _dtype(d, done))
        except UnsafeNumpyData as exc:  # name where the record sits
            message = str(exc)[len(UnsafeDataError.PREFIX):]
            raise UnsafeNumpyData(f'{path}: {message}') from None
    if kind is PendingHistoryBuffer:
        state = getattr(value, 'state', None)
        value.state = done.get(id(state), state)
        return build_history_buffer(
            value, lambda message: UnsafeDataError(f'{path}: {message}'))
    if kind in (list, tuple, set, frozenset):
        items = [done.get(id(item), item) for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        try:
            return kind(items)
        except TypeError:  # an unhashable NumPy array in a set
            raise UnsafeDataError(f'{path}: a set holding NumPy data')
    pairs = [(done.get(id(k), k), done.get(id(v), v))
             for k, v in value.items()]
    metadata = value.__dict__.get('_metadata') if kind is OrderedDict \
        else None
    if all(a is k and b is v for (a, b), (k, v) in zip(
            pairs, value.items())) and (metadata is None
                                        or done.get(id(metadata), metadata)
                                        is metadata):
        return value
    # Item by item: Counter(pairs) would count the pairs themselves.
    rebuilt = kind()
    for key, item in pairs:
        try:
            rebuilt[key] = item
        except TypeError:
            raise UnsafeDataError(f'{path}: a dict keyed by NumPy data')
    if metadata is not None:
        rebuilt._metadata = done.get(id(metadata), metadata)
    return rebuilt


def _dtype(pending, done: Dict[Any, Any]):
    if type(pending) is not _PendingDtype:
        raise UnsafeNumpyData(
            f'NumPy data whose dtype is {describe(pending)}, not a numpy '
            'dtype')
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
            # Plain immutable values need no proof, path or entry in
            # ``done`` (their finished form is themselves).
            if type(child) not in _LEAF_TYPES and id(child) not in done:
                stack.append((child, depth + 1, _Path(path, step), False))
    return done.get(id(root), root)
