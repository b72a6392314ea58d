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
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Optional, Tuple

from .paper_table import (AUTHORS_TOP1, DATASET_TITLES, DATASETS, PAIRS,
                          PAIR_TITLES, config_for, config_name)

# Published datasets first, then Places365, for which the authors give no
# numbers (the zoo still has a config for every pair on it).
CARD_DATASETS = DATASETS + ('places365', )
DISTILL_METHODS = ('dct', 'dct-kd', 'at', 'at-kd', 'kd', 'pkt', 'pkt-kd',
                   'vid', 'vid-kd', 'crd', 'crd-kd', 'ckd', 'ckd-kd')
ARCH_TITLES = {'resnet18': 'ResNet-18', 'resnet34': 'ResNet-34',
               'resnet50': 'ResNet-50', 'resnet152': 'ResNet-152',
               'mobilenet-v2': 'MobileNetV2'}
TEACHERS = ('resnet50', 'resnet152')
STUDENTS = ('resnet18', 'resnet34', 'mobilenet-v2')
TOOL = 'python tools/analysis_tools/zoo_report.py'
GENERATOR = 'python -m dctkd_mm.zoo.model_cards'
SOURCE = ("the authors' published top-1 (López-Cifuentes et al. 2022, "
          'README of alexlopezcifuentes/Distillation-Attention)')


class Paper(NamedTuple):
    title: str
    authors: str
    venue: str
    year: int
    url: str
    bibtex: str


DCT_PAPER = Paper(
    'Attention-based Knowledge Distillation in Multi-attention Tasks: The '
    'Impact of a DCT-driven Loss',
    'Alejandro López-Cifuentes, Marcos Escudero-Viñolo, Jesús Bescós and '
    'Juan C. SanMiguel', 'IEEE TCSVT', 2022,
    'https://arxiv.org/abs/2205.01997',
    '@article{lopezcifuentes2022attention,\n'
    '  title={Attention-based Knowledge Distillation in Multi-attention '
    'Tasks: The Impact of a DCT-driven Loss},\n'
    '  author={L{\\\'o}pez-Cifuentes, Alejandro and Escudero-Vi{\\~n}olo, '
    'Marcos and Besc{\\\'o}s, Jes{\\\'u}s and SanMiguel, Juan C.},\n'
    '  journal={IEEE Transactions on Circuits and Systems for Video '
    'Technology},\n'
    '  year={2022}\n'
    '}')
AT_PAPER = Paper(
    'Paying More Attention to Attention: Improving the Performance of '
    'Convolutional Neural Networks via Attention Transfer',
    'Sergey Zagoruyko and Nikos Komodakis', 'ICLR', 2017,
    'https://arxiv.org/abs/1612.03928',
    '@inproceedings{zagoruyko2017paying,\n'
    '  title={Paying More Attention to Attention: Improving the Performance '
    'of Convolutional Neural Networks via Attention Transfer},\n'
    '  author={Zagoruyko, Sergey and Komodakis, Nikos},\n'
    '  booktitle={International Conference on Learning Representations '
    '(ICLR)},\n'
    '  year={2017}\n'
    '}')
KD_PAPER = Paper(
    'Distilling the Knowledge in a Neural Network',
    'Geoffrey Hinton, Oriol Vinyals and Jeff Dean', 'arXiv', 2015,
    'https://arxiv.org/abs/1503.02531',
    '@article{hinton2015distilling,\n'
    '  title={Distilling the Knowledge in a Neural Network},\n'
    '  author={Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},\n'
    '  journal={arXiv preprint arXiv:1503.02531},\n'
    '  year={2015}\n'
    '}')
PKT_PAPER = Paper(
    'Learning Deep Representations with Probabilistic Knowledge Transfer',
    'Nikolaos Passalis and Anastasios Tefas', 'ECCV', 2018,
    'https://arxiv.org/abs/1803.10837',
    '@inproceedings{passalis2018learning,\n'
    '  title={Learning Deep Representations with Probabilistic Knowledge '
    'Transfer},\n'
    '  author={Passalis, Nikolaos and Tefas, Anastasios},\n'
    '  booktitle={European Conference on Computer Vision (ECCV)},\n'
    '  year={2018}\n'
    '}')
VID_PAPER = Paper(
    'Variational Information Distillation for Knowledge Transfer',
    'Sungsoo Ahn, Shell Xu Hu, Andreas Damianou, Neil D. Lawrence and '
    'Zhenwen Dai', 'CVPR', 2019, 'https://arxiv.org/abs/1904.05835',
    '@inproceedings{ahn2019variational,\n'
    '  title={Variational Information Distillation for Knowledge '
    'Transfer},\n'
    '  author={Ahn, Sungsoo and Hu, Shell Xu and Damianou, Andreas and '
    'Lawrence, Neil D. and Dai, Zhenwen},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2019}\n'
    '}')
CRD_PAPER = Paper(
    'Contrastive Representation Distillation',
    'Yonglong Tian, Dilip Krishnan and Phillip Isola', 'ICLR', 2020,
    'https://arxiv.org/abs/1910.10699',
    '@inproceedings{tian2020contrastive,\n'
    '  title={Contrastive Representation Distillation},\n'
    '  author={Tian, Yonglong and Krishnan, Dilip and Isola, Phillip},\n'
    '  booktitle={International Conference on Learning Representations '
    '(ICLR)},\n'
    '  year={2020}\n'
    '}')
SEMCKD_PAPER = Paper(
    'Cross-Layer Distillation with Semantic Calibration',
    'Defang Chen, Jian-Ping Mei, Yuan Zhang, Can Wang, Zhe Wang, Yan Feng '
    'and Chun Chen', 'AAAI', 2021, 'https://arxiv.org/abs/2012.03236',
    '@inproceedings{chen2021cross,\n'
    '  title={Cross-Layer Distillation with Semantic Calibration},\n'
    '  author={Chen, Defang and Mei, Jian-Ping and Zhang, Yuan and Wang, '
    'Can and Wang, Zhe and Feng, Yan and Chen, Chun},\n'
    '  booktitle={AAAI Conference on Artificial Intelligence},\n'
    '  year={2021}\n'
    '}')
RESNET_PAPER = Paper(
    'Deep Residual Learning for Image Recognition',
    'Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun', 'CVPR', 2016,
    'https://arxiv.org/abs/1512.03385',
    '@inproceedings{he2016deep,\n'
    '  title={Deep Residual Learning for Image Recognition},\n'
    '  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, '
    'Jian},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2016}\n'
    '}')
MOBILENET_V2_PAPER = Paper(
    'MobileNetV2: Inverted Residuals and Linear Bottlenecks',
    'Mark Sandler, Andrew Howard, Menglong Zhu, Andrey Zhmoginov and '
    'Liang-Chieh Chen', 'CVPR', 2018, 'https://arxiv.org/abs/1801.04381',
    '@inproceedings{sandler2018mobilenetv2,\n'
    '  title={MobileNetV2: Inverted Residuals and Linear Bottlenecks},\n'
    '  author={Sandler, Mark and Howard, Andrew and Zhu, Menglong and '
    'Zhmoginov, Andrey and Chen, Liang-Chieh},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2018}\n'
    '}')


class Folder(NamedTuple):
    """One model-card folder: its title, papers and one-line summary."""
    folder: str  # relative to the repository root
    title: str
    collection: str
    papers: Tuple[Paper, ...]  # the first is the collection's Paper
    summary: str
    kind: str  # 'distill', 'teacher' or 'baseline'


FOLDERS: Tuple[Folder, ...] = (
    Folder('configs/distill/dct', 'DCT', 'DCT', (DCT_PAPER, ),
           "The student matches the 2-D frequency transform of the "
           "teacher's per-stage attention maps (their global spatial "
           'structure), with cross-entropy.', 'distill'),
    Folder('configs/distill/dct-kd', 'DCT + KD', 'DCT-KD',
           (DCT_PAPER, KD_PAPER),
           "The DCT-driven attention loss plus Hinton's logit KD (T = 4), "
           'with the cross-entropy weighted 0.1, as the authors run it.',
           'distill'),
    Folder('configs/distill/at', 'AT', 'AT', (AT_PAPER, ),
           "Attention transfer: the student matches the teacher's "
           'normalised per-stage attention maps (ALPHA = 1000), with '
           'cross-entropy.', 'distill'),
    Folder('configs/distill/at-kd', 'AT + KD', 'AT-KD',
           (AT_PAPER, KD_PAPER),
           "Attention transfer plus Hinton's logit KD (T = 4), with the "
           'cross-entropy weighted 0.1, as López-Cifuentes et al. run it.',
           'distill'),
    Folder('configs/distill/kd', 'KD', 'KD', (KD_PAPER, ),
           "The student matches the teacher's softened logits "
           '(T^2 * KL / B, T = 4, weight 0.8) with cross-entropy weighted '
           '0.1, as López-Cifuentes et al. run it.', 'distill'),
    Folder('configs/distill/pkt', 'PKT', 'PKT', (PKT_PAPER, ),
           'Probabilistic knowledge transfer: the student matches the '
           "teacher's cosine-similarity distribution over the batch of "
           'pooled embeddings (ALPHA = 30000), with cross-entropy, as '
           'López-Cifuentes et al. run it.', 'distill'),
    Folder('configs/distill/pkt-kd', 'PKT + KD', 'PKT-KD',
           (PKT_PAPER, KD_PAPER),
           "PKT on the pooled embedding plus Hinton's logit KD (T = 4), "
           'with the cross-entropy weighted 0.1, as López-Cifuentes et al. '
           'run it.', 'distill'),
    Folder('configs/distill/vid', 'VID', 'VID', (VID_PAPER, ),
           'Variational information distillation: per stage (the last '
           "three), a trained regressor predicts the teacher's features "
           'from the student\'s under a learned per-channel variance '
           '(ALPHA = 1), with cross-entropy, as López-Cifuentes et al. run '
           'it.', 'distill'),
    Folder('configs/distill/vid-kd', 'VID + KD', 'VID-KD',
           (VID_PAPER, KD_PAPER),
           "VID over the last three stages plus Hinton's logit KD (T = 4), "
           'with the cross-entropy weighted 0.1, as López-Cifuentes et al. '
           'run it.', 'distill'),
    Folder('configs/distill/crd', 'CRD', 'CRD', (CRD_PAPER, ),
           'Contrastive representation distillation: 128-d embeddings of '
           'the pooled features contrasted against 16384 negatives from a '
           'memory bank (T = 0.07, ALPHA = 0.8), with cross-entropy, as '
           'López-Cifuentes et al. run it.', 'distill'),
    Folder('configs/distill/crd-kd', 'CRD + KD', 'CRD-KD',
           (CRD_PAPER, KD_PAPER),
           "CRD on the pooled embedding plus Hinton's logit KD (T = 4), "
           'with the cross-entropy weighted 0.1, as López-Cifuentes et al. '
           'run it.', 'distill'),
    Folder('configs/distill/ckd', 'CKD', 'CKD', (SEMCKD_PAPER, ),
           'Semantic calibration (SemCKD): attention over the last three '
           'stages of both networks weights the MSE between every student '
           'stage, projected, and every teacher stage (ALPHA = 400), with '
           'cross-entropy, as López-Cifuentes et al. run it; published on '
           'ADE20K only.', 'distill'),
    Folder('configs/distill/ckd-kd', 'CKD + KD', 'CKD-KD',
           (SEMCKD_PAPER, KD_PAPER),
           "SemCKD plus Hinton's logit KD (T = 4), with the cross-entropy "
           'weighted 0.1, as López-Cifuentes et al. run it; published on '
           'ADE20K only.', 'distill'),
    Folder('configs/teachers', 'Teachers', 'Teachers',
           (RESNET_PAPER, ),
           "ResNet-50 and ResNet-152 from torchvision's ImageNet weights, "
           'all layers fine-tuned (lr 0.01) on each scene dataset: the '
           'teachers of the distillation configs.', 'teacher'),
    Folder('configs/baselines', 'Student baselines', 'Baselines',
           (RESNET_PAPER, MOBILENET_V2_PAPER),
           'ResNet-18, ResNet-34 and MobileNetV2 trained from scratch with '
           'cross-entropy only: the students without a teacher.',
           'baseline'),
)


class Card(NamedTuple):
    """One model of a metafile: a zoo config and what the paper says."""
    config: str  # relative to the repository root
    dataset: str
    method: str  # 'teacher', 'baseline' or a distillation method
    arch: str  # the trained network (the student for distillation)
    pair: Optional[str]  # distillation pair, or the first pair with
    # the teacher / baseline (whose number the metafile gives)
    top1: Optional[float]  # the authors' published top-1, if any
    teacher: Optional[Tuple[str, Optional[float]]] = None  # config, top1
    student: Optional[Tuple[str, Optional[float]]] = None  # config, top1


def _published(method: str, dataset: str, pair: str) -> Optional[float]:
    row = AUTHORS_TOP1[method].get(dataset)
    return None if row is None else row[PAIRS.index(pair)]


def _pairs_with(arch: str, role: str) -> List[str]:
    index = 0 if role == 'teacher' else 1
    return [p for p in PAIRS if p.split('_')[index] == arch]


def cards_for(folder: Folder) -> List[Card]:
    """The models of one folder, in table order (dataset, pair)."""
    cards = []
    for dataset in CARD_DATASETS:
        if folder.kind == 'distill':
            method = osp.basename(folder.folder)
            for pair in PAIRS:
                teacher, student = pair.split('_')
                cards.append(Card(
                    config_for(dataset, pair, method), dataset, method,
                    student, pair, _published(method, dataset, pair),
                    teacher=(config_for(dataset, pair, 'teacher'),
                             _published('teacher', dataset, pair)),
                    student=(config_for(dataset, pair, 'baseline'),
                             _published('baseline', dataset, pair))))
        else:
            archs = TEACHERS if folder.kind == 'teacher' else STUDENTS
            for arch in archs:
                pair = _pairs_with(arch, folder.kind)[0]
                cards.append(Card(
                    config_for(dataset, pair, folder.kind), dataset,
                    folder.kind, arch, pair,
                    _published(folder.kind, dataset, pair)))
    return cards


# ----------------------------------------------------------------- YAML


def _q(text: str) -> str:
    """A YAML scalar: JSON's double-quoted string is valid YAML."""
    return json.dumps(text, ensure_ascii=False)


def _num(value: float) -> str:
    return f'{value:.2f}'


def _collection_paper(folder: Folder) -> Paper:
    return folder.papers[0]


def _collection_name(folder: Folder, card: Card) -> str:
    if folder.kind == 'baseline':
        return ('Baselines MobileNetV2' if card.arch == 'mobilenet-v2' else
                'Baselines ResNet')
    return folder.collection


def _collections(folder: Folder) -> List[Tuple[str, Paper]]:
    if folder.kind == 'baseline':
        return [('Baselines ResNet', RESNET_PAPER),
                ('Baselines MobileNetV2', MOBILENET_V2_PAPER)]
    return [(folder.collection, _collection_paper(folder))]


def format_metafile(folder: Folder) -> str:
    """The folder's ``metafile.yml`` (OpenMMLab's schema)."""
    cards = cards_for(folder)
    lines = [
        f'# Generated by `{GENERATOR}` from dctkd_mm/zoo/paper_table.py;',
        '# edit that module, not this file.',
        "# Every Top 1 Accuracy here is the AUTHORS' published number",
        '# (López-Cifuentes et al. 2022, README of their repository',
        '# alexlopezcifuentes/Distillation-Attention), not one measured by',
        f'# this project; ours comes from `{TOOL}`.',
        '# No checkpoint is published by this project: no Weights fields.',
        'Collections:',
    ]
    training_data = [DATASET_TITLES[d] for d in CARD_DATASETS]
    for name, paper in _collections(folder):
        lines += [
            f'  - Name: {_q(name)}',
            '    Metadata:',
            '      Training Data:',
            *[f'        - {_q(d)}' for d in training_data],
            '    Paper:',
            f'      URL: {paper.url}',
            f'      Title: {_q(paper.title)}',
            f'    README: {folder.folder}/README.md',
        ]
    lines += ['', 'Models:']
    for card in cards:
        name = config_name(card.config)
        lines += [
            f'  - Name: {name}',
            f'    In Collection: {_q(_collection_name(folder, card))}',
            f'    Config: {card.config}',
            '    Metadata:',
            f'      Training Data: {_q(DATASET_TITLES[card.dataset])}',
        ]
        if folder.kind == 'distill':
            lines.append(f'      Pair: {_q(PAIR_TITLES[card.pair])}')
            for role, (config, top1) in (('Student', card.student),
                                         ('Teacher', card.teacher)):
                arch = card.arch if role == 'Student' else \
                    card.pair.split('_')[0]
                lines += [
                    f'      {role}:',
                    f'        Architecture: {_q(ARCH_TITLES[arch])}',
                    f'        Config: {config}',
                ]
                if top1 is not None:
                    lines += [
                        "        Metrics:  # the authors' published number",
                        f'          Top 1 Accuracy: {_num(top1)}',
                    ]
        else:
            lines.append(f'      Architecture: {_q(ARCH_TITLES[card.arch])}')
            lines.append('      Pretrained: ' + (
                _q("ImageNet-1k (torchvision's V1 weights)")
                if folder.kind == 'teacher' else _q('none (from scratch)')))
        if card.top1 is None and card.dataset in DATASETS:
            # CKD: the authors' SUN397 and MIT67 tables have no CKD rows
            lines.append('    # No Results: the authors publish no '
                         f'{DATASET_TITLES[card.dataset]} number for '
                         f'{folder.title}.')
        elif card.top1 is None:
            lines.append('    # No Results: the authors publish no '
                         f'{DATASET_TITLES[card.dataset]} numbers.')
        else:
            lines += [
                f'      Results Source: {_q(SOURCE)}',
                '    Results:',
                '      - Task: Image Classification',
                f'        Dataset: {_q(DATASET_TITLES[card.dataset])}',
                "        Metrics:  # the authors' published number",
                f'          Top 1 Accuracy: {_num(card.top1)}',
            ]
            others = _other_published(folder, card)
            if others:
                lines.append(
                    '    # The authors also list this model at '
                    + ', '.join(f'{_num(v)} ({PAIR_TITLES[p]} row)'
                                for p, v in others)
                    + '; see README.md.')
        lines.append('')
    return '\n'.join(lines)


def _other_published(folder: Folder,
                     card: Card) -> List[Tuple[str, float]]:
    """Other published numbers for a teacher / baseline shared by pairs
    (the SUN397 ResNet-50 teacher: 61.69 and 51.59, as published)."""
    if folder.kind == 'distill':
        return []
    out = []
    for pair in _pairs_with(card.arch, folder.kind)[1:]:
        value = _published(folder.kind, card.dataset, pair)
        if value is not None and value != card.top1:
            out.append((pair, value))
    return out


def format_model_index() -> str:
    """The root ``model-index.yml``."""
    return '\n'.join([
        f'# Generated by `{GENERATOR}`; the model cards of the zoo.',
        'Import:',
        *[f'  - {f.folder}/metafile.yml' for f in FOLDERS],
    ]) + '\n'


# --------------------------------------------------------------- README


def _rel(card_folder: str, path: str) -> str:
    rel = osp.relpath(path, card_folder).replace(os.sep, '/')
    return rel if rel.startswith('.') else './' + rel


def _cell(value: Optional[float]) -> str:
    return '—' if value is None else _num(value)


def _unpublished_note(folder: Folder) -> str:
    """The published datasets without this method's row (CKD: SUN397
    and MIT67), as a sentence, or ''."""
    if folder.kind != 'distill':
        return ''
    method = osp.basename(folder.folder)
    missing = [DATASET_TITLES[d] for d in DATASETS
               if d not in AUTHORS_TOP1[method]]
    if not missing:
        return ''
    return (f' Their {" and ".join(missing)} tables have no '
            f'{folder.title} row (—); the configs are provided all the '
            'same.')


def format_readme(folder: Folder) -> str:
    """The folder's ``README.md``."""
    paper = folder.papers[0]
    lines = [f'# {folder.title}', '']
    for p in folder.papers:
        lines += [f'> [{p.title}]({p.url})  ', f'> {p.authors}. '
                  f'{p.venue}, {p.year}.', '']
    lines += [
        '<!-- [ALGORITHM] -->' if folder.kind == 'distill' else
        '<!-- [BACKBONE] -->',
        '',
        f'<!-- Generated by `{GENERATOR}` from '
        'dctkd_mm/zoo/paper_table.py; edit that module, not this file. -->',
        '',
        '## Summary',
        '',
        folder.summary,
        '',
    ]
    if paper is not DCT_PAPER:
        what = {'distill': 'which runs this method on scene recognition',
                'teacher': 'whose table gives the teachers',
                'baseline': 'whose table gives the students trained '
                            'without a teacher'}[folder.kind]
        lines += [
            'The results are those of López-Cifuentes et al., '
            f'[*{DCT_PAPER.title}*]({DCT_PAPER.url}) ({DCT_PAPER.year}), '
            f'{what}.',
            '',
        ]
    lines += [
        '## Results and models',
        '',
        "Top-1 accuracy (%) on each dataset's validation split. "
        "**Authors** columns are the authors' published numbers "
        '(López-Cifuentes et al., from the README of their repository '
        '`alexlopezcifuentes/Distillation-Attention`), as they report them; '
        'none was measured by this project. The authors publish no '
        'Places365 numbers (—).' + _unpublished_note(folder),
        '',
        f'**Ours** is filled by `{TOOL} work_dirs` (best validation top-1 '
        'of `work_dirs/<config name>`) once a config has been trained. '
        'Nothing was trained for these cards, so it is empty (—) here. No '
        'checkpoint is published by this project.',
        '',
    ]
    cards = cards_for(folder)
    if folder.kind == 'distill':
        lines += [
            '| Dataset | Teacher | Student | Top-1, authors | '
            'Teacher top-1, authors | Student top-1, authors | Top-1, ours | '
            'Config |',
            '|---|---|---|---:|---:|---:|---:|---|',
        ]
        for card in cards:
            teacher = card.pair.split('_')[0]
            lines.append(
                f'| {DATASET_TITLES[card.dataset]} | '
                f'[{ARCH_TITLES[teacher]}]'
                f'({_rel(folder.folder, card.teacher[0])}) | '
                f'[{ARCH_TITLES[card.arch]}]'
                f'({_rel(folder.folder, card.student[0])}) | '
                f'{_cell(card.top1)} | {_cell(card.teacher[1])} | '
                f'{_cell(card.student[1])} | — | '
                f'[config]({_rel(folder.folder, card.config)}) |')
    else:
        role = 'teacher' if folder.kind == 'teacher' else 'student'
        lines += [
            f'| Dataset | Model | As the {role} of | Top-1, authors | '
            'Top-1, ours | Config |',
            '|---|---|---|---:|---:|---|',
        ]
        for card in cards:
            for pair in _pairs_with(card.arch, folder.kind):
                lines.append(
                    f'| {DATASET_TITLES[card.dataset]} | '
                    f'{ARCH_TITLES[card.arch]} | {PAIR_TITLES[pair]} | '
                    f'{_cell(_published(folder.kind, card.dataset, pair))}'
                    f' | — | [config]({_rel(folder.folder, card.config)}) |')
        if folder.kind == 'teacher':
            lines += [
                '',
                'A teacher shared by two pairs is one config, listed once '
                'per pair. The authors list the SUN397 ResNet-50 teacher at '
                '61.69 (R50 → R18) and 51.59 (R50 → MobileNetV2); both are '
                "reproduced as published, and the metafile's Results give "
                'the first.',
            ]
    lines += [
        '',
        'The metafile ([metafile.yml](./metafile.yml)) lists the same '
        'models in OpenMMLab\'s schema; the root '
        f'[model-index.yml]({_rel(folder.folder, "model-index.yml")}) '
        'imports it.',
        '',
        '## Citation',
        '',
        '```latex',
    ]
    papers = list(folder.papers)
    if DCT_PAPER not in papers:
        papers.append(DCT_PAPER)
    for i, p in enumerate(papers):
        if i:
            lines.append('')
        lines += p.bibtex.split('\n')
    lines += ['```', '']
    return '\n'.join(lines)


# ----------------------------------------------------------- read/write


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
