"""The configs the installed package carries.

Library code (the demo's arms, the benchmarks' workloads) builds runs from
the project's config files, and must find them in any install, not only in
a source checkout. As MMPretrain does with its ``.mim`` folder,
``setup.py`` links ``configs/`` into ``dctkd_mm/.mim/configs`` for an
editable install (``pip install -e .``) and copies it there for a wheel or
an sdist, which then ship it as package data.
"""
import os.path as osp

#: ``configs/`` as the installed package sees it.
CONFIG_ROOT = osp.join(osp.dirname(osp.abspath(__file__)), '.mim', 'configs')


def config_file(*parts: str) -> str:
    """Path of ``configs/<parts...>`` in the installed package, or a
    ``FileNotFoundError`` naming what is missing and the fix."""
    path = osp.join(CONFIG_ROOT, *parts)
    if osp.isfile(path):
        return path
    if not osp.isdir(CONFIG_ROOT):
        raise FileNotFoundError(
            f'dctkd_mm carries its configs in {CONFIG_ROOT}, which does not '
            'exist: the package was not installed by its setup.py. Install '
            'it with `pip install -e .` from a checkout (or `pip install .`).')
    raise FileNotFoundError(
        f'no config {"/".join(parts)} in {CONFIG_ROOT} (the configs this '
        'install of dctkd_mm carries)')
