"""Which class a config's type name builds in MMPretrain's registries,
and the type MMPretrain alone builds in its place
(:mod:`dctkd_mm.apis.plain_config`).

Transforms, hooks and loops of ours are subclasses of MMCV / MMEngine ones
with the same arguments; each becomes the nearest base class registered
under its own name (:func:`plain_type`)."""
from typing import List

from mmengine.registry import DefaultScope, Registry
from mmengine.utils import get_object_from_string

#: Module prefixes whose registered types MMPretrain alone cannot build.
FOREIGN_MODULES = ('dctkd_mm', 'mmrazor')


class ExportConfigError(ValueError):
    """A config section MMPretrain alone could not build."""


def _registries() -> List[Registry]:
    import mmpretrain.registry as registry
    return [r for r in vars(registry).values() if isinstance(r, Registry)]


def is_foreign(cls) -> bool:
    return cls.__module__.split('.')[0] in FOREIGN_MODULES


def _in_registry_or_parents(registry: Registry, name: str):
    """What ``registry.get(name)`` finds for a name without a scope before
    its fallback: ``name`` in the registry or its nearest ancestor."""
    registry.import_from_location()
    while registry is not None:
        if name in registry.module_dict:
            return registry.module_dict[name]
        registry = registry.parent
    return None


def resolve_type(type_name: str):
    """``(registry, class)`` of a type name in MMPretrain's registries (and
    their MMEngine parents), or ``(None, None)``."""
    if '.' not in type_name:
        return _resolve_plain_name(type_name)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for registry in _registries():
            try:
                cls = registry.get(type_name)
            except (KeyError, ImportError):
                cls = None
            if cls is not None:
                return registry, cls
    return None, None


def _resolve_plain_name(type_name: str):
    """:func:`resolve_type` of a name without a dot, with the same answer:
    ``Registry.get`` of such a name looks in the registry and its
    ancestors, else imports ``type_name`` as a module, which is the same
    attempt for every registry and, for a type name, fails after a search
    of the whole path; it is made once here, not once per registry
    (a config export looks up hundreds of names)."""
    fallback = ...  # not tried yet
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for registry in _registries():
            cls = _in_registry_or_parents(registry, type_name)
            if cls is None:
                if fallback is ...:
                    try:  # as Registry.get
                        fallback = get_object_from_string(type_name)
                    except Exception:
                        raise RuntimeError(f'Failed to get {type_name}')
                cls = fallback
            if cls is not None:
                return registry, cls
    return None, None


def plain_type(type_name: str, where: str) -> str:
    """``type_name`` itself if MMPretrain alone builds it, else the nearest
    base class registered under its own name (``CheckedLoadImageFromFile``
    -> ``LoadImageFromFile``)."""
    registry, cls = resolve_type(type_name)
    if cls is None or not is_foreign(cls):
        return type_name
    for base in cls.__mro__[1:]:
        if is_foreign(base):
            continue
        if registry.get(base.__name__) is base:
            return base.__name__
    raise ExportConfigError(
        f'{where}: type {type_name!r} ({cls.__module__}) has no MMPretrain '
        'equivalent, so the exported config could not be built without '
        'dctkd_mm; remove it from the config before export')
