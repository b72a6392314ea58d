"""Model cards in OpenMMLab's format for the zoo's configs.

One ``README.md`` and one ``metafile.yml`` per method folder under
``configs/distill/`` (``at``, ``at-kd``, ``dct``, ``dct-kd``, ``kd``, and
the authors' other rows ``pkt``, ``vid``, ``crd``, ``ckd`` with their
``-kd`` variants), and
for ``configs/teachers/`` and ``configs/baselines/``, plus a root
``model-index.yml`` that imports every metafile (MMRazor's layout, e.g.
``configs/distill/mmcls/kd/``).

Every number in them comes from :mod:`dctkd_mm.zoo.paper_table`: the
authors' published top-1 (López-Cifuentes et al.), never one measured
here. Our column is filled by ``tools/analysis_tools/zoo_report.py`` from
finished work dirs; the cards only point to it. No checkpoint is published
by this project, so no model has a ``Weights`` field.

The list of configs is derived from the zoo's naming scheme
(:func:`~dctkd_mm.zoo.paper_table.config_for`), not read from disk; this
module reads and writes files only when :func:`write_cards` or
:func:`check_cards` is called with a repository root::

    python -m dctkd_mm.zoo.model_cards [--root REPO]          # (re)write
    python -m dctkd_mm.zoo.model_cards [--root REPO] --check  # verify

The parts: :mod:`.card_papers` (the cited papers), :mod:`.card_folders`
(the folders, each ``-kd`` variant derived from its method),
:mod:`.card_models` (a folder's models and their published numbers),
:mod:`.card_metafile` and :mod:`.card_readme` (the two renderings); this
module writes and checks them.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List

from .card_folders import FOLDERS, GENERATOR, Folder
from .card_metafile import format_metafile, format_model_index
from .card_models import Card, cards_for
from .card_readme import format_readme

__all__ = [
    'Card', 'FOLDERS', 'Folder', 'cards_for', 'check_cards',
    'expected_files', 'format_metafile', 'format_model_index',
    'format_readme', 'main', 'write_cards'
]


def expected_files() -> Dict[str, str]:
    """Relative path -> expected text of every generated file."""
    files = {'model-index.yml': format_model_index()}
    for folder in FOLDERS:
        files[f'{folder.folder}/README.md'] = format_readme(folder)
        files[f'{folder.folder}/metafile.yml'] = format_metafile(folder)
    return files


def check_cards(root: str) -> List[str]:
    """The generated files under ``root`` that are missing or stale."""
    stale = []
    for rel, text in expected_files().items():
        path = osp.join(root, rel)
        try:
            with open(path, encoding='utf-8') as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            stale.append(rel)
    return stale


def write_cards(root: str) -> List[str]:
    """Write every generated file under ``root``; return the paths
    written (those that changed)."""
    written = []
    for rel in check_cards(root):
        path = osp.join(root, rel)
        os.makedirs(osp.dirname(path) or '.', exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(expected_files()[rel])
        written.append(rel)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description='Write (or --check) the zoo\'s OpenMMLab model cards.')
    parser.add_argument('--root', default='.',
                        help='repository root (default: the current dir)')
    parser.add_argument('--check', action='store_true',
                        help='only verify the files are up to date')
    args = parser.parse_args(argv)
    if args.check:
        stale = check_cards(args.root)
        for rel in stale:
            print(f'stale or missing: {rel}', file=sys.stderr)
        if stale:
            print(f'run `{GENERATOR} --root {args.root}` to update',
                  file=sys.stderr)
            return 1
        print(f'{len(expected_files())} model-card files up to date')
        return 0
    written = write_cards(args.root)
    for rel in written:
        print(f'wrote {rel}')
    print(f'{len(written)} of {len(expected_files())} files changed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
