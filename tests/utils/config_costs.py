"""What MMEngine spends on a config besides its values, cut for runs in
the test process (``tests/conftest.py`` applies :func:`config_costs_cut`
to the whole session; subprocesses pay them as users do):

- yapf formatting of ``Config.pretty_text`` (~1 s of CPU per config text,
  at least once per run: log, dumped config, visualiser, checkpoint meta).
  The text is parsed instead (invalid Python still fails, as yapf made it
  fail) and left as MMEngine writes it before yapf: the same dict
  literals, not re-indented.
- the lookups behind every ``mmpretrain::`` base: ``is_installed`` and
  ``get_installed_path`` reload ``pkg_resources`` each call (~0.1 s), and
  ``_get_cfg_metainfo`` parses the package's model index and its ~85
  metafiles (~0.3 s) before the base path is tried. Their answers depend
  only on the installed packages, so each is computed once per argument.
"""
import ast
import functools
from contextlib import ExitStack, contextmanager
from unittest import mock


def parse_only(text, **kwargs):
    """yapf's ``FormatCode`` without the formatting: ``(text, None)``
    after checking that ``text`` is Python."""
    ast.parse(text)
    return text, None


def memoised(function, errors=()):
    """``function`` answering each argument tuple once; an exception in
    ``errors`` is remembered and raised anew on a repeat."""
    memo = {}

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        if key not in memo:
            try:
                memo[key] = (True, function(*args, **kwargs))
            except errors as error:
                memo[key] = (False, error)
        ok, value = memo[key]
        if not ok:
            raise type(value)(*value.args)
        return value
    return wrapper


@contextmanager
def config_costs_cut():
    import mmengine.config.config as config_module
    import mmengine.config.utils as config_utils
    with ExitStack() as stack:
        for module, name, errors in (
                (config_module, 'FormatCode', None),
                (config_module, 'is_installed', ()),
                (config_module, 'get_installed_path', ()),
                (config_utils, '_get_cfg_metainfo', (ValueError, ))):
            new = (parse_only if errors is None else memoised(
                getattr(module, name), errors))
            stack.enter_context(mock.patch.object(module, name, new))
        yield
