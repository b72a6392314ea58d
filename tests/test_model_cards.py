"""The model cards (OpenMMLab's ``README.md`` + ``metafile.yml`` per config
folder, and the root ``model-index.yml``) against the configs tree and the
authors' published numbers in ``dctkd_mm/zoo/paper_table.py``."""
import os
import os.path as osp
import re

import pytest
import yaml
from mmengine import Config

from dctkd_mm.zoo import model_cards
from dctkd_mm.zoo.paper_table import (AUTHORS_TOP1, DATASET_TITLES, PAIRS,
                                      config_name, paper_cells)
from utils import REPO_ROOT

DISTILL_METHODS = ('at', 'at-kd', 'dct', 'dct-kd', 'kd',
                   # issue 20: the authors' other rows
                   'pkt', 'pkt-kd', 'vid', 'vid-kd', 'crd', 'crd-kd',
                   'ckd', 'ckd-kd')
CARD_FOLDERS = [f'configs/distill/{m}' for m in DISTILL_METHODS] + [
    'configs/teachers', 'configs/baselines']
ZOO_TREES = ['configs/distill', 'configs/teachers', 'configs/baselines']
TOP1 = 'Top 1 Accuracy'


def _load(rel):
    with open(osp.join(REPO_ROOT, rel), encoding='utf-8') as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def index():
    return _load('model-index.yml')


@pytest.fixture(scope='module')
def metafiles(index):
    return {rel: _load(rel) for rel in index['Import']}


@pytest.fixture(scope='module')
def models(metafiles):
    return [(rel, m) for rel, meta in metafiles.items()
            for m in meta['Models']]


def _zoo_leaf_configs():
    found = set()
    for tree in ZOO_TREES:
        for dirpath, dirnames, filenames in os.walk(osp.join(REPO_ROOT,
                                                             tree)):
            dirnames[:] = [d for d in dirnames if d != '_base_']
            for name in filenames:
                if name.endswith('.py'):
                    found.add(osp.relpath(osp.join(dirpath, name),
                                          REPO_ROOT).replace(os.sep, '/'))
    return found


def _method_pair_dataset(model):
    """(method, pair, dataset) of a model, from its config path and name
    (``{method}_{pair}_1xb128-70e_{dataset}`` for distillation)."""
    config = model['Config']
    folder = config.split('/')[-2]
    left, dataset = model['Name'].split('_1xb128-70e_')
    if folder in DISTILL_METHODS:
        assert left.startswith(folder + '_'), model['Name']
        return folder, left[len(folder) + 1:], dataset
    return {'teachers': 'teacher', 'baselines': 'baseline'}[folder], None, \
        dataset


def test_model_index_imports_every_card_folder(index):
    assert sorted(index['Import']) == sorted(
        f'{f}/metafile.yml' for f in CARD_FOLDERS)
    for folder in CARD_FOLDERS:
        assert osp.isfile(osp.join(REPO_ROOT, folder, 'metafile.yml'))
        assert osp.isfile(osp.join(REPO_ROOT, folder, 'README.md'))


def test_metafiles_follow_openmmlab_schema(metafiles):
    names = []
    for rel, meta in metafiles.items():
        assert set(meta) == {'Collections', 'Models'}, rel
        collections = set()
        for col in meta['Collections']:
            assert set(col) >= {'Name', 'Metadata', 'Paper', 'README'}, col
            assert col['Metadata']['Training Data'], col
            assert col['Paper']['URL'].startswith('https://'), col
            assert col['Paper']['Title'], col
            assert col['README'] == osp.dirname(rel) + '/README.md'
            assert osp.isfile(osp.join(REPO_ROOT, col['README']))
            collections.add(col['Name'])
        for m in meta['Models']:
            names.append(m['Name'])
            assert m['In Collection'] in collections, m['Name']
            assert m['Name'] == config_name(m['Config'])
            assert osp.dirname(m['Config']) == osp.dirname(rel), m['Name']
            # no checkpoint is published by this project
            assert 'Weights' not in str(m), m['Name']
            md = m['Metadata']
            assert md['Training Data'] in DATASET_TITLES.values()
            if 'Student' in md:
                assert md['Student']['Architecture']
                assert md['Teacher']['Architecture']
            else:
                assert md['Architecture'], m['Name']
            for result in m.get('Results', []):
                assert result['Task'] == 'Image Classification'
                assert result['Dataset'] == md['Training Data']
                assert set(result['Metrics']) == {TOP1}
    assert len(names) == len(set(names))


def test_every_config_path_exists_and_builds(models):
    paths = set()
    for _, m in models:
        paths.add(m['Config'])
        for role in ('Student', 'Teacher'):
            if role in m['Metadata']:
                paths.add(m['Metadata'][role]['Config'])
    assert paths
    failures = []
    for rel in sorted(paths):
        path = osp.join(REPO_ROOT, rel)
        if not osp.isfile(path):
            failures.append(f'{rel}: missing')
            continue
        try:
            cfg = Config.fromfile(path)
            assert 'model' in cfg, 'no model'
        except Exception as e:  # noqa: BLE001 - report every config
            failures.append(f'{rel}: {type(e).__name__}: {e}')
    assert not failures, '\n'.join(failures)


def test_every_zoo_config_is_in_exactly_one_metafile(models):
    listed = [m['Config'] for _, m in models]
    leaves = _zoo_leaf_configs()
    # 13 distillation methods x 3 pairs x 4 datasets, 8 teachers, 12
    # baselines
    assert len(leaves) == 13 * 12 + 8 + 12
    duplicated = {c for c in listed if listed.count(c) > 1}
    assert not duplicated
    assert leaves - set(listed) == set(), 'configs without a model card'
    assert set(listed) - leaves == set(), 'model cards without a config'


def _count_top1(node):
    if isinstance(node, dict):
        return sum((k == TOP1) + _count_top1(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(_count_top1(v) for v in node)
    return 0


def test_every_number_is_the_authors(models):
    by_config = {}
    for cell in paper_cells():
        by_config.setdefault(cell.config, []).append(cell)
    cell_of = {(c.dataset, c.pair, c.method): c for c in paper_cells()}
    checked, covered = 0, set()
    for _, m in models:
        before = checked
        method, pair, dataset = _method_pair_dataset(m)
        cells = by_config.get(m['Config'], [])
        if dataset not in AUTHORS_TOP1[method]:
            assert not cells and 'Results' not in m, m['Name']  # Places365
        else:
            # a teacher / baseline shared by pairs gives the first pair's
            # number (the README lists every pair's)
            assert [r['Metrics'][TOP1] for r in m['Results']] == \
                [cells[0].authors_top1], m['Name']
            checked += 1
            covered.update((c.dataset, c.pair, c.method) for c in cells
                           if c.authors_top1 == cells[0].authors_top1)
        for role, row in (('Student', 'baseline'), ('Teacher', 'teacher')):
            if role not in m['Metadata']:
                continue
            entry = m['Metadata'][role]
            cell = cell_of.get((dataset, pair, row))
            if cell is None:
                assert 'Metrics' not in entry, m['Name']
                continue
            assert entry['Config'] == cell.config, m['Name']
            assert entry['Metrics'] == {TOP1: cell.authors_top1}, m['Name']
            checked += 1
            covered.add((dataset, pair, row))
        # every number of this model was checked above
        assert _count_top1(m) == checked - before, m['Name']
    # every number in the metafiles was checked, every published cell shows
    assert sum(_count_top1(m) for _, m in models) == checked
    assert covered == set(cell_of)
    # teacher, baseline and 11 methods on the three published datasets,
    # plus CKD and CKD + KD on ADE20K only (the authors' table)
    assert len(covered) == 3 * len(PAIRS) * 13 + len(PAIRS) * 2


def test_readmes_link_every_config_and_the_report_tool(models):
    for folder in CARD_FOLDERS:
        text = open(osp.join(REPO_ROOT, folder, 'README.md'),
                    encoding='utf-8').read()
        assert "the authors' published numbers" in text
        assert 'python tools/analysis_tools/zoo_report.py' in text
        assert 'https://arxiv.org/abs/' in text
        links = re.findall(r'\]\((\.[^)\s]*)\)', text)
        for link in links:
            target = osp.normpath(osp.join(REPO_ROOT, folder, link))
            assert osp.exists(target), f'{folder}: {link}'
        for _, m in models:
            if osp.dirname(m['Config']) == folder:
                assert f'(./{osp.basename(m["Config"])})' in text


def test_check_mode_passes(capsys):
    """The committed cards are what ``python -m dctkd_mm.zoo.model_cards``
    writes (its ``--check``, run in-process: the module's ``__main__`` is
    ``sys.exit(main())``)."""
    assert model_cards.check_cards(REPO_ROOT) == []
    assert model_cards.main(['--root', REPO_ROOT, '--check']) == 0
    assert 'up to date' in capsys.readouterr().out


def test_check_mode_finds_stale_and_missing_files(tmp_path):
    root = str(tmp_path)
    assert sorted(model_cards.check_cards(root)) == sorted(
        model_cards.expected_files())
    assert model_cards.main(['--root', root, '--check']) == 1
    assert model_cards.main(['--root', root]) == 0
    assert model_cards.check_cards(root) == []
    stale = tmp_path / 'configs' / 'distill' / 'dct' / 'metafile.yml'
    stale.write_text(stale.read_text().replace('47.35', '47.36'))
    assert model_cards.check_cards(root) == [
        'configs/distill/dct/metafile.yml']
