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

The scan also refuses a call (``REDUCE``, ``NEWOBJ``) of anything but a
named global: no genuine pickle calls a list or a string, and PyTorch's
unpickler formats the refused callable into its error message, so a
list nested 300,000 deep (built top-down, which the depth count cannot
see) overflows the C stack in ``repr``. ``check_global(name, call)``
lets the caller refuse globals by name, where they appear and where they
are called, seeing the short string literals of the call's arguments
(see :mod:`.checkpoint_integrity`).
"""
import io
import pickletools
from typing import BinaryIO, Callable, List, Optional

from .numpy_unpickling import UnsafeDataError


class _Value:
    """A value on the stack: how deep it nests; the ``'module name'`` of
    the global it is, the text of a short string literal, the items of a
    tuple (None where not)."""
    __slots__ = ('depth', 'name', 'text', 'items')

    def __init__(self, depth: int, name: Optional[str] = None,
                 text: Optional[str] = None) -> None:
        self.depth, self.name, self.text = depth, name, text
        self.items = None


#: Longest string literal whose text a ``check_global`` is shown.
_SHOWN_TEXT = 64
_STRING_OPCODES = ('STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE',
                   'BINUNICODE', 'SHORT_BINUNICODE', 'BINUNICODE8')


_MARK = object()
#: ``check_global('module name', call)``: raise to refuse the global.
#: ``call`` is None where the global only appears, else the call's
#: arguments (each a short string literal's text, or None).
_GlobalCheck = Callable[[str, Optional[tuple]], None]


class _Scan:
    """The unpickler's stack, holding each value's depth instead of it."""

    def __init__(self, limit: int, source: str,
                 check_global: Optional[_GlobalCheck]) -> None:
        self.limit, self.source = limit, source
        self.check_global = check_global
        self.stack: List = []
        self.memo = {}
        push, pop = self.stack.append, self.stack.pop
        self.handlers = dict(
            MARK=lambda arg: push(_MARK),
            TUPLE1=lambda arg: push(self._tuple(pop())),
            TUPLE2=lambda arg: push(self._tuple(pop(), pop())),
            TUPLE3=lambda arg: push(self._tuple(pop(), pop(), pop())),
            TUPLE=lambda arg: push(self._tuple(*self._pop_to_mark())),
            APPEND=lambda arg: self._fill(pop()),
            SETITEM=lambda arg: self._fill(pop(), pop()),
            BUILD=lambda arg: self._fill(pop()),
            MEMOIZE=lambda arg: self.memo.__setitem__(len(self.memo),
                                                      self.stack[-1]),
            POP=lambda arg: pop(),
            POP_MARK=lambda arg: self._pop_to_mark(),
            DUP=lambda arg: push(self.stack[-1]),
        )
        for name in ('LIST', 'DICT', 'FROZENSET', 'OBJ'):
            self.handlers[name] = lambda arg: push(
                self._wrap(*self._pop_to_mark()))
        self.handlers['INST'] = self._instance
        for name in ('APPENDS', 'SETITEMS', 'ADDITEMS'):
            self.handlers[name] = lambda arg: self._fill(*self._pop_to_mark())
        for name, count in (('REDUCE', 1), ('NEWOBJ', 1), ('NEWOBJ_EX', 2)):
            self.handlers[name] = lambda arg, count=count: push(
                self._call(count))
        self.handlers['GLOBAL'] = lambda arg: push(self._global(arg))
        # Resolved by the unpickler's find_class (the plain-data reader's
        # allowlist; PyTorch's unpickler refuses these opcodes).
        self.handlers['STACK_GLOBAL'] = lambda arg: push(
            _Value(max(pop().depth, pop().depth), '<STACK_GLOBAL>'))
        for name in ('EXT1', 'EXT2', 'EXT4'):
            self.handlers[name] = lambda arg: push(_Value(1, '<extension>'))
        self.handlers['BINPERSID'] = lambda arg: push(_Value(pop().depth))
        for name in _STRING_OPCODES:
            self.handlers[name] = lambda arg: push(self._literal(arg))
        for name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            self.handlers[name] = lambda arg: self.memo.__setitem__(
                arg, self.stack[-1])
        for name in ('GET', 'BINGET', 'LONG_BINGET'):
            self.handlers[name] = lambda arg: push(self.memo[arg])
        for name in ('PROTO', 'FRAME', 'READONLY_BUFFER', 'STOP'):
            self.handlers[name] = lambda arg: None
        # Every other opcode pushes one new leaf (ints, strings, None,
        # PERSID, EMPTY_* containers, NEXT_BUFFER).
        self.leaf = lambda arg: push(_Value(1))

    def _refuse(self):
        raise UnsafeDataError(
            f'{self.source}: the pickle nests values deeper than '
            f'{self.limit} levels; saved checkpoints and data files are far '
            'shallower (a deeply nested tuple crashes the interpreter while '
            'unpickling)')

    @staticmethod
    def _literal(arg) -> _Value:
        """A string; its text kept where short (a codec's name)."""
        short = type(arg) is str and len(arg) <= _SHOWN_TEXT
        return _Value(1, text=arg if short else None)

    def _global(self, arg: str, call: Optional[tuple] = None) -> _Value:
        if self.check_global is not None:
            self.check_global(arg, call)
        return _Value(1, arg)

    def _instance(self, arg: str) -> None:  # INST: a global called inline
        self._global(arg, call=())
        self.stack.append(self._wrap(*self._pop_to_mark()))

    def _call(self, arg_count: int) -> _Value:
        """The result of calling the value under ``arg_count`` arguments:
        it holds at most what the arguments held."""
        args = [self.stack.pop() for _ in range(arg_count)]
        func = self.stack.pop()
        if getattr(func, 'name', None) is None:  # data, or a MARK
            raise UnsafeDataError(
                f'{self.source}: the pickle calls a value that is not a '
                'named global (a list, a string, ...); no saved file does, '
                "and an unpickler's error message would format that value "
                'without a bound')
        # REDUCE's and NEWOBJ's argument tuple (NEWOBJ_EX's kwargs on top)
        given = getattr(args[-1], 'items', None) or ()
        self._global(func.name, call=tuple(v.text for v in given))
        return _Value(max(v.depth for v in args + [func]))

    def _tuple(self, *popped) -> _Value:
        """A tuple of the values ``popped`` (top of the stack first)."""
        value = self._wrap(*popped)
        value.items = popped[::-1]
        return value

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


def check_pickle_nesting(
        stream: BinaryIO, source: str, limit: int,
        check_global: Optional[_GlobalCheck] = None) -> None:
    """Read one pickle from ``stream`` (its position moves past ``STOP``)
    and raise :class:`~.numpy_unpickling.UnsafeDataError` naming
    ``source`` if a value nests deeper than ``limit`` or a call's callable
    is not a named global; ``check_global('module name', called)`` sees
    every ``GLOBAL`` (``called=False``) and every call of one
    (``called=True``) first. A malformed stream raises ``ValueError`` (or
    ``IndexError`` / ``KeyError`` for an inconsistent stack or memo) like
    the unpicklers would."""
    scan = _Scan(limit, source, check_global)
    handlers, leaf = scan.handlers, scan.leaf
    for opcode, arg, _ in pickletools.genops(stream):
        handlers.get(opcode.name, leaf)(arg)


def check_pickle_bytes(
        data: bytes, source: str, limit: int,
        check_global: Optional[_GlobalCheck] = None) -> None:
    check_pickle_nesting(io.BytesIO(data), source, limit, check_global)
