"""Refuse deeply nested pickles before any unpickler builds them.

A tuple nested 300,000 deep used as a dict key crashes CPython inside
``hash`` while the dict is filled, in PyTorch's ``weights_only`` unpickler
as in ``pickle`` itself (the C stack overflows; no recursion limit
applies). The crash happens during unpickling, so no check of the loaded
object can catch it. :func:`check_pickle_nesting` reads the opcode stream
(building nothing; each opcode and argument read and checked as
:func:`pickletools.genops` does, the frequent ones by :func:`_scan`
itself, which is several times faster) and tracks how deep each value on
the unpickler's stack would be; a value deeper than the limit is refused
before the real unpickler runs.

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
import struct
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


def _deepest(values) -> int:
    """``max(v.depth for v in values)``, 0 for none (a loop: faster)."""
    deepest = 0
    for value in values:
        depth = value.depth
        if depth > deepest:
            deepest = depth
    return deepest


class _Scan:
    """The unpickler's stack, holding each value's depth instead of it.

    Each ``_op_*`` method is one opcode's effect, given its argument as
    :func:`pickletools.genops` decodes it; :data:`_OPCODES` maps every
    opcode byte to its argument reader and method (built once).
    :func:`_scan` reads the opcodes itself and inlines the most frequent
    ones (the same effects, in the same order)."""

    def __init__(self, limit: int, source: str,
                 check_global: Optional[_GlobalCheck]) -> None:
        self.limit, self.source = limit, source
        self.check_global = check_global
        self.stack: List = []
        self.memo = {}

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
        self._global(func.name, call=tuple([v.text for v in given]))
        args.append(func)
        return _Value(_deepest(args))

    def _tuple(self, *popped) -> _Value:
        """A tuple of the values ``popped`` (top of the stack first)."""
        value = self._wrap(*popped)
        value.items = popped[::-1]
        return value

    def _wrap(self, *items) -> _Value:
        depth = 1 + _deepest(items)
        if depth > self.limit:
            self._refuse()
        return _Value(depth)

    def _fill(self, *items) -> None:
        target = self.stack[-1]
        depth = 1 + _deepest(items)
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

    # --- each opcode's effect ----------------------------------------------
    def _op_mark(self, arg) -> None:
        self.stack.append(_MARK)

    def _op_tuple1(self, arg) -> None:
        pop = self.stack.pop
        self.stack.append(self._tuple(pop()))

    def _op_tuple2(self, arg) -> None:
        pop = self.stack.pop
        self.stack.append(self._tuple(pop(), pop()))

    def _op_tuple3(self, arg) -> None:
        pop = self.stack.pop
        self.stack.append(self._tuple(pop(), pop(), pop()))

    def _op_tuple(self, arg) -> None:
        self.stack.append(self._tuple(*self._pop_to_mark()))

    def _op_fill1(self, arg) -> None:  # APPEND, BUILD
        self._fill(self.stack.pop())

    def _op_setitem(self, arg) -> None:
        pop = self.stack.pop
        self._fill(pop(), pop())

    def _op_fill_marked(self, arg) -> None:  # APPENDS, SETITEMS, ADDITEMS
        self._fill(*self._pop_to_mark())

    def _op_container(self, arg) -> None:  # LIST, DICT, FROZENSET, OBJ
        self.stack.append(self._wrap(*self._pop_to_mark()))

    def _op_memoize(self, arg) -> None:
        self.memo[len(self.memo)] = self.stack[-1]

    def _op_pop(self, arg) -> None:
        self.stack.pop()

    def _op_pop_mark(self, arg) -> None:
        self._pop_to_mark()

    def _op_dup(self, arg) -> None:
        self.stack.append(self.stack[-1])

    def _op_inst(self, arg: str) -> None:  # INST: a global called inline
        self._global(arg, call=())
        self.stack.append(self._wrap(*self._pop_to_mark()))

    def _op_call1(self, arg) -> None:  # REDUCE, NEWOBJ
        self.stack.append(self._call(1))

    def _op_call2(self, arg) -> None:  # NEWOBJ_EX
        self.stack.append(self._call(2))

    def _op_global(self, arg: str) -> None:
        self.stack.append(self._global(arg))

    def _op_stack_global(self, arg) -> None:
        # Resolved by the unpickler's find_class (the plain-data reader's
        # allowlist; PyTorch's unpickler refuses these opcodes).
        pop = self.stack.pop
        self.stack.append(
            _Value(max(pop().depth, pop().depth), '<STACK_GLOBAL>'))

    def _op_extension(self, arg) -> None:  # EXT1, EXT2, EXT4
        self.stack.append(_Value(1, '<extension>'))

    def _op_binpersid(self, arg) -> None:
        self.stack.append(_Value(self.stack.pop().depth))

    def _op_string(self, arg) -> None:
        self.stack.append(self._literal(arg))

    def _op_put(self, arg) -> None:
        self.memo[arg] = self.stack[-1]

    def _op_get(self, arg) -> None:
        self.stack.append(self.memo[arg])

    def _op_nothing(self, arg) -> None:  # PROTO, FRAME, READONLY_BUFFER, STOP
        pass

    def _op_leaf(self, arg) -> None:
        # Every other opcode pushes one new leaf (ints, strings, None,
        # PERSID, EMPTY_* containers, NEXT_BUFFER).
        self.stack.append(_Value(1))


_EFFECTS = dict(
    MARK=_Scan._op_mark, TUPLE1=_Scan._op_tuple1, TUPLE2=_Scan._op_tuple2,
    TUPLE3=_Scan._op_tuple3, TUPLE=_Scan._op_tuple,
    APPEND=_Scan._op_fill1, BUILD=_Scan._op_fill1,
    SETITEM=_Scan._op_setitem, MEMOIZE=_Scan._op_memoize,
    POP=_Scan._op_pop, POP_MARK=_Scan._op_pop_mark, DUP=_Scan._op_dup,
    INST=_Scan._op_inst, GLOBAL=_Scan._op_global,
    STACK_GLOBAL=_Scan._op_stack_global, BINPERSID=_Scan._op_binpersid)
for _names, _effect in (
        (('LIST', 'DICT', 'FROZENSET', 'OBJ'), _Scan._op_container),
        (('APPENDS', 'SETITEMS', 'ADDITEMS'), _Scan._op_fill_marked),
        (('REDUCE', 'NEWOBJ'), _Scan._op_call1),
        (('NEWOBJ_EX', ), _Scan._op_call2),
        (('EXT1', 'EXT2', 'EXT4'), _Scan._op_extension),
        (_STRING_OPCODES, _Scan._op_string),
        (('PUT', 'BINPUT', 'LONG_BINPUT'), _Scan._op_put),
        (('GET', 'BINGET', 'LONG_BINGET'), _Scan._op_get),
        (('PROTO', 'FRAME', 'READONLY_BUFFER', 'STOP'), _Scan._op_nothing)):
    for _name in _names:
        _EFFECTS[_name] = _effect
#: Opcode byte -> (the argument's pickletools reader or None, effect);
#: None for a byte that is no opcode.
_OPCODES: List[Optional[tuple]] = [None] * 256
for _op in pickletools.opcodes:
    _OPCODES[_op.code.encode('latin-1')[0]] = (
        _op.arg.reader if _op.arg is not None else None,
        _EFFECTS.get(_op.name, _Scan._op_leaf))
del _names, _effect, _name, _op

_UINT2, _INT4, _UINT4 = (struct.Struct(f).unpack_from
                         for f in ('<H', '<i', '<I'))
_SHORT = 'not enough data in stream to read {}'


def _scan(scan: _Scan, data: bytes, pos: int) -> int:
    """Scan the pickle starting at ``data[pos]``; the position after its
    ``STOP``. The opcodes of saved state dicts and their arguments are
    read inline, with pickletools' checks and error messages; every other
    goes through :data:`_OPCODES` (pickletools' own reader)."""
    stack, memo, limit = scan.stack, scan.memo, scan.limit
    push, pop = stack.append, stack.pop
    end, stream = len(data), None
    while True:
        if pos >= end:
            raise ValueError('pickle exhausted before seeing STOP')
        code = data[pos]
        pos += 1
        if code == 0x72:  # LONG_BINPUT
            if end - pos < 4:
                raise ValueError(_SHORT.format('uint4'))
            key = _UINT4(data, pos)[0]
            pos += 4
            memo[key] = stack[-1]
        elif code == 0x68:  # BINGET
            if pos >= end:
                raise ValueError(_SHORT.format('uint1'))
            key = data[pos]
            pos += 1
            push(memo[key])
        elif code == 0x4b:  # BININT1
            if pos >= end:
                raise ValueError(_SHORT.format('uint1'))
            pos += 1
            push(_Value(1))
        elif code == 0x58 or code == 0x8c:  # BINUNICODE, SHORT_BINUNICODE
            if code == 0x58:
                if end - pos < 4:
                    raise ValueError(_SHORT.format('uint4'))
                size, kind = _UINT4(data, pos)[0], 'unicodestring4'
                pos += 4
            else:
                if pos >= end:
                    raise ValueError(_SHORT.format('uint1'))
                size, kind = data[pos], 'unicodestring1'
                pos += 1
            text = data[pos:pos + size]
            if len(text) != size:
                raise ValueError(f'expected {size} bytes in a {kind}, but '
                                 f'only {len(text)} remain')
            pos += size
            text = str(text, 'utf-8', 'surrogatepass')
            push(_Value(1, text=text if len(text) <= _SHOWN_TEXT else None))
        elif code == 0x28:  # MARK
            push(_MARK)
        elif code == 0x74:  # TUPLE
            push(scan._tuple(*scan._pop_to_mark()))
        elif code == 0x52:  # REDUCE
            push(scan._call(1))
        elif code == 0x4d:  # BININT2
            if end - pos < 2:
                raise ValueError(_SHORT.format('uint2'))
            pos += 2
            push(_Value(1))
        elif code == 0x29 or code == 0x89 or code == 0x7d or code == 0x5d:
            push(_Value(1))  # EMPTY_TUPLE, NEWFALSE, EMPTY_DICT, EMPTY_LIST
        elif code == 0x85:  # TUPLE1
            push(scan._tuple(pop()))
        elif code == 0x51:  # BINPERSID
            push(_Value(pop().depth))
        elif code == 0x61:  # APPEND: _fill(pop()) inlined
            item = pop()
            target = stack[-1]
            depth = 1 + item.depth
            if depth > target.depth:
                if depth > limit:
                    scan._refuse()
                target.depth = depth
        elif code == 0x71:  # BINPUT
            if pos >= end:
                raise ValueError(_SHORT.format('uint1'))
            key = data[pos]
            pos += 1
            memo[key] = stack[-1]
        elif code == 0x73:  # SETITEM
            scan._fill(pop(), pop())
        elif code == 0x6a:  # LONG_BINGET
            if end - pos < 4:
                raise ValueError(_SHORT.format('uint4'))
            key = _UINT4(data, pos)[0]
            pos += 4
            push(memo[key])
        elif code == 0x4a:  # BININT
            if end - pos < 4:
                raise ValueError(_SHORT.format('int4'))
            pos += 4
            push(_Value(1))
        else:
            entry = _OPCODES[code]
            if entry is None:
                raise ValueError(f'at position {pos - 1}, opcode '
                                 f'{bytes([code])!r} unknown')
            reader, effect = entry
            arg = None
            if reader is not None:
                if stream is None:
                    stream = io.BytesIO(data)  # shares data's buffer
                stream.seek(pos)
                arg = reader(stream)
                pos = stream.tell()
            effect(scan, arg)
            if code == 0x2e:  # STOP
                return pos


def check_pickle_nesting(
        stream: BinaryIO, source: str, limit: int,
        check_global: Optional[_GlobalCheck] = None) -> None:
    """Read one pickle from ``stream`` (its position moves past ``STOP``)
    and raise :class:`~.numpy_unpickling.UnsafeDataError` naming
    ``source`` if a value nests deeper than ``limit`` or a call's callable
    is not a named global; ``check_global('module name', call)`` sees
    every ``GLOBAL`` (``call=None``) and every call of one (``call``: the
    short string literals of its arguments) first. A malformed stream
    raises ``ValueError`` (or ``IndexError`` / ``KeyError`` /
    ``AttributeError`` for an inconsistent stack or memo) like the
    unpicklers would, with :func:`pickletools.genops`' messages."""
    if isinstance(stream, io.BytesIO):
        data, start = stream.getvalue(), stream.tell()  # no copy
        stream.seek(_scan(_Scan(limit, source, check_global), data, start))
    else:
        start = stream.tell()
        data = stream.read()
        stream.seek(start + _scan(_Scan(limit, source, check_global), data,
                                  0))


def check_pickle_bytes(
        data: bytes, source: str, limit: int,
        check_global: Optional[_GlobalCheck] = None) -> None:
    _scan(_Scan(limit, source, check_global), bytes(data), 0)
