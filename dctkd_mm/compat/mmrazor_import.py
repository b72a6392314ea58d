"""Let ``mmrazor.models`` import on PyTorch releases its quantization code
does not know.

MMRazor 1.0.0 builds its quantization backend tables at import time from
private ``torch.ao`` helpers (``reverse2``, ``reverse_sequential_wrapper2``,
...) that PyTorch removed after 2.0. The failure sits in two modules of
``mmrazor.structures.quantization.backend_config`` and, because
``mmrazor.models`` imports everything eagerly, it takes the distillation
code down with it.

:class:`QuantizationImportGuard` is a ``sys.meta_path`` finder that runs
those modules as usual and, only if running one raises, puts an
:class:`UnavailableModule` in its place. Every attribute of that module is
a stand-in that raises :class:`MMRazorFeatureUnavailable` when it is used
(called, built from a registry, indexed), naming the feature, the module
and the original error. On a PyTorch where MMRazor imports natively the
modules run unchanged and the guard has no effect. Nothing in
site-packages is edited.
"""
import ast
import importlib.abc
import importlib.util
import sys
import types
from typing import Dict, List, Optional

#: MMRazor modules whose import-time work needs removed ``torch.ao`` APIs.
GUARDED_MODULES = (
    'mmrazor.structures.quantization.backend_config.'
    'common_operator_config_utils',
    'mmrazor.structures.quantization.backend_config.mapping',
)

#: ``module name -> repr of the exception`` for each module replaced.
REPLACED_MODULES: Dict[str, str] = {}


class MMRazorFeatureUnavailable(ImportError):
    """A part of MMRazor that cannot work with the installed PyTorch."""

    def __init__(self, message: str, root_error: str = ''):
        super().__init__(message)
        self.root_error = root_error or message


def _unavailable_message(name: str, module: str, error: str) -> str:
    import torch
    return (f'MMRazor feature `{name}` (from `{module}`) is unavailable with '
            f'torch {torch.__version__}: importing that module failed with '
            f'{error}. MMRazor 1.0.0 quantization needs torch.ao APIs that '
            'newer PyTorch removed; distillation is not affected. Use '
            'torch<2.0 for MMRazor quantization.')


class _UnavailableMeta(type):

    def _fail(cls, *args, **kwargs):
        raise MMRazorFeatureUnavailable(cls._message, cls._root_error)

    def __getattr__(cls, item):
        if item.startswith('__'):
            raise AttributeError(item)
        cls._fail()

    __getitem__ = _fail
    __iter__ = _fail


def _make_unavailable(name: str, module: str, error: str) -> type:
    """A class standing in for ``module.name``: using it in any way raises
    :class:`MMRazorFeatureUnavailable` with a message naming both."""
    message = _unavailable_message(name, module, error)

    def __init__(self, *args, **kwargs):
        raise MMRazorFeatureUnavailable(message, error)

    return _UnavailableMeta(
        name, (),
        dict(__init__=__init__, _message=message, _root_error=error,
             __module__=module))


class UnavailableModule(types.ModuleType):
    """Stands in for a guarded module whose import failed."""

    def __init__(self, name: str, error: str):
        super().__init__(name)
        self.__dict__['_import_error'] = error
        self.__all__: List[str] = []

    def __getattr__(self, item):
        if item.startswith('__'):
            raise AttributeError(item)
        return _make_unavailable(item, self.__name__, self._import_error)


def _registered_classes(origin: Optional[str]) -> List[tuple]:
    """``(registry_name, class_name)`` for each ``@X.register_module()``
    class in a source file, so their names stay buildable (and fail clearly)
    after the module is replaced."""
    if not origin:
        return []
    with open(origin, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=origin)
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for deco in node.decorator_list:
            call = deco.func if isinstance(deco, ast.Call) else deco
            if (isinstance(call, ast.Attribute)
                    and call.attr == 'register_module'
                    and isinstance(call.value, ast.Name)):
                found.append((call.value.id, node.name))
    return found


def _register_unavailable(module: UnavailableModule, origin: Optional[str]):
    import mmrazor.registry as registries
    for registry_name, class_name in _registered_classes(origin):
        registry = getattr(registries, registry_name, None)
        if registry is None or class_name in registry.module_dict:
            continue
        registry.register_module(
            name=class_name,
            module=getattr(module, class_name))


class _GuardedLoader(importlib.abc.Loader):

    def __init__(self, wrapped: importlib.abc.Loader, origin: Optional[str]):
        self.wrapped = wrapped
        self.origin = origin

    def create_module(self, spec):
        return self.wrapped.create_module(spec)

    def exec_module(self, module):
        try:
            self.wrapped.exec_module(module)
        except Exception as exc:  # any failure: the guard exists for it
            error = getattr(exc, 'root_error', f'{type(exc).__name__}: {exc}')
            stand_in = UnavailableModule(module.__name__, error)
            stand_in.__spec__ = module.__spec__
            stand_in.__file__ = getattr(module, '__file__', None)
            sys.modules[module.__name__] = stand_in
            REPLACED_MODULES[module.__name__] = error
            _register_unavailable(stand_in, self.origin)


class QuantizationImportGuard(importlib.abc.MetaPathFinder):
    """Meta-path finder that guards :data:`GUARDED_MODULES`."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in GUARDED_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                spec.loader = _GuardedLoader(spec.loader, spec.origin)
                return spec
        return None


def install_quantization_import_guard() -> None:
    """Install the guard once; a no-op if mmrazor was already imported
    successfully or the guard is in place."""
    if any(isinstance(f, QuantizationImportGuard) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, QuantizationImportGuard())
