"""Name an untrusted value in an error message without ``repr``-ing it.

``repr`` of a value read from a file can recurse without bound (a list
nested 300,000 deep crashes CPython once MMRazor has raised the recursion
limit), raise (``repr(2**100000)`` exceeds the int-to-str limit) or run
long. :func:`describe` looks at the value's exact type only and shows at
most a short prefix of a string or bytes.
"""
from typing import Any

_SHOWN = 60


def describe(value: Any) -> str:
    """A bounded, non-recursive description of ``value``."""
    kind = type(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is int:
        if value.bit_length() <= 64:
            return repr(value)
        return f'an int of {value.bit_length()} bits'
    if kind is float:
        return repr(value)
    if kind in (str, bytes, bytearray):
        shown = repr(value[:_SHOWN])
        return shown if len(value) <= _SHOWN else (
            f'{shown}... ({len(value)} in all)')
    if isinstance(value, type) or kind.__name__ in (
            'function', 'builtin_function_or_method'):
        # Only allowlisted globals get this far: their names are ours.
        return (f'{"the class" if isinstance(value, type) else "the function"}'
                f' {getattr(value, "__module__", "?")}.'
                f'{getattr(value, "__qualname__", "?")}')
    size = len(value) if kind in (list, tuple, dict, set,
                                  frozenset) else None
    name = f'{kind.__module__}.{kind.__qualname__}'
    if kind.__module__ == 'builtins':
        name = kind.__qualname__
    return f'a {name}' + (f' of {size} items' if size is not None else '')
