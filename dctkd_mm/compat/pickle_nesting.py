"""Refuse deeply nested pickles before any unpickler builds them.

A tuple nested 300,000 deep used as a dict key crashes CPython inside
``hash`` while the dict is filled, in PyTorch's ``weights_only`` unpickler
as in ``pickle`` itself (the C stack overflows; no recursion limit
applies). The crash happens during unpickling, so no check of the loaded
object can catch it. :func:`check_pickle_nesting` reads the opcode stream
with :func:`pickletools.genops` (which builds nothing) and tracks how
deep each value on the unpickler's stack would be; a value deeper than
the limit is refused before the real unpickler runs.

Depth is exact for values built bottom-up (tuples, frozensets: every
hashable value, so every dict key); a list or dict filled after it was
put inside another container is measured only as it was then, which
:func:`~.plain_data.to_plain_data` catches after loading (its walk is
iterative). The crash itself is upstream: CPython's ``tuple_hash`` has no
recursion guard (python/cpython issue #154318, open as of this writing),
and torch's ``_weights_only_unpickler`` fills dicts the same way.
"""
import io
import pickletools
from typing import BinaryIO, List

from .numpy_unpickling import UnsafeDataError


class _Value:
    __slots__ = ('depth', )

    def __init__(self, depth: int) -> None:
        self.depth = depth


_MARK = object()


class _Scan:
    """The unpickler's stack, holding each value's depth instead of it."""

    def __init__(self, limit: int, source: str) -> None:
        self.limit, self.source = limit, source
        self.stack: List = []
        self.memo = {}
        push, pop = self.stack.append, self.stack.pop
        self.handlers = dict(
            MARK=lambda arg: push(_MARK),
            TUPLE1=lambda arg: push(self._wrap(pop())),
            TUPLE2=lambda arg: push(self._wrap(pop(), pop())),
            TUPLE3=lambda arg: push(self._wrap(pop(), pop(), pop())),
            APPEND=lambda arg: self._fill(pop()),
            SETITEM=lambda arg: self._fill(pop(), pop()),
            BUILD=lambda arg: self._fill(pop()),
            MEMOIZE=lambda arg: self.memo.__setitem__(len(self.memo),
                                                      self.stack[-1]),
            POP=lambda arg: pop(),
            POP_MARK=lambda arg: self._pop_to_mark(),
            DUP=lambda arg: push(self.stack[-1]),
        )
        for name in ('TUPLE', 'LIST', 'DICT', 'FROZENSET', 'INST', 'OBJ'):
            self.handlers[name] = lambda arg: push(
                self._wrap(*self._pop_to_mark()))
        for name in ('APPENDS', 'SETITEMS', 'ADDITEMS'):
            self.handlers[name] = lambda arg: self._fill(*self._pop_to_mark())
        for name, count in (('REDUCE', 2), ('NEWOBJ', 2), ('NEWOBJ_EX', 3),
                            ('STACK_GLOBAL', 2), ('BINPERSID', 1)):
            # A call's result holds at most what its arguments held.
            self.handlers[name] = lambda arg, count=count: push(
                _Value(max(pop().depth for _ in range(count))))
        for name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            self.handlers[name] = lambda arg: self.memo.__setitem__(
                arg, self.stack[-1])
        for name in ('GET', 'BINGET', 'LONG_BINGET'):
            self.handlers[name] = lambda arg: push(self.memo[arg])
        for name in ('PROTO', 'FRAME', 'READONLY_BUFFER', 'STOP'):
            self.handlers[name] = lambda arg: None
        # Every other opcode pushes one new leaf (ints, strings, None,
        # GLOBAL, PERSID, EXT*, EMPTY_* containers, NEXT_BUFFER).
        self.leaf = lambda arg: push(_Value(1))

    def _refuse(self):
        raise UnsafeDataError(
            f'{self.source}: the pickle nests values deeper than '
            f'{self.limit} levels; saved checkpoints and data files are far '
            'shallower (a deeply nested tuple crashes the interpreter while '
            'unpickling)')

    def _wrap(self, *items) -> _Value:
        depth = 1 + max((i.depth for i in items), default=0)
        if depth > self.limit:
            self._refuse()
        return _Value(depth)

    def _fill(self, *items) -> None:
        target = self.stack[-1]
        depth = 1 + max((i.depth for i in items), default=0)
        if depth > target.depth:
            if depth > self.limit:
                self._refuse()
            target.depth = depth

    def _pop_to_mark(self) -> List[_Value]:
        items, pop = [], self.stack.pop
        while True:
            item = pop()
            if item is _MARK:
                return items
            items.append(item)


def check_pickle_nesting(stream: BinaryIO, source: str,
                         limit: int) -> None:
    """Read one pickle from ``stream`` (its position moves past ``STOP``)
    and raise :class:`~.numpy_unpickling.UnsafeDataError` naming
    ``source`` if a value nests deeper than ``limit``. A malformed stream
    raises ``ValueError`` (or ``IndexError`` / ``KeyError`` for an
    inconsistent stack or memo) like the unpicklers would."""
    scan = _Scan(limit, source)
    handlers, leaf = scan.handlers, scan.leaf
    for opcode, arg, _ in pickletools.genops(stream):
        handlers.get(opcode.name, leaf)(arg)


def check_pickle_bytes(data: bytes, source: str, limit: int) -> None:
    check_pickle_nesting(io.BytesIO(data), source, limit)
