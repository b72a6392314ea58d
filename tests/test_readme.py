"""The README's promises that are about names: what ``import dctkd_mm``
registers, and where."""
import importlib
import re

from utils import REPO_ROOT

_BULLET = re.compile(r'^- (MMRazor|MMPretrain|MMEngine) `(\w+)`: (.*?)(?=^- |^\n)',
                     re.M | re.S)


def _registered_names():
    with open(f'{REPO_ROOT}/README.md', encoding='utf-8') as f:
        text = f.read()
    section = text[text.index('registers into the OpenMMLab registries'):]
    section = section[:section.index('Everything else is')]
    found = []
    for package, registry, body in _BULLET.findall(section):
        for name in re.findall(r'`([A-Z]\w+)`', body):
            found.append((package.lower(), registry, name))
    return found


def test_every_name_the_readme_lists_is_registered_where_it_says():
    import dctkd_mm  # noqa: F401  (registers)
    listed = _registered_names()
    assert len(listed) >= 18, listed
    missing = []
    for package, registry_name, name in listed:
        registry = getattr(importlib.import_module(f'{package}.registry'),
                           registry_name)
        # module_dict, not get(): get() falls back to parent registries.
        if name not in registry.module_dict:
            missing.append(f'{package}.registry.{registry_name}: {name}')
    assert not missing, missing
