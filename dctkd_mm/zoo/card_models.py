"""The models of a model-card folder: one zoo config per dataset and pair
(or architecture), with the authors' published top-1 of it
(:mod:`dctkd_mm.zoo.model_cards`)."""
import os.path as osp
from typing import List, NamedTuple, Optional, Tuple

from .card_folders import CARD_DATASETS, STUDENTS, TEACHERS, Folder
from .paper_table import AUTHORS_TOP1, PAIRS, config_for


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


def published(method: str, dataset: str, pair: str) -> Optional[float]:
    """The authors' top-1 of ``method`` on ``dataset`` for ``pair``."""
    row = AUTHORS_TOP1[method].get(dataset)
    return None if row is None else row[PAIRS.index(pair)]


def pairs_with(arch: str, role: str) -> List[str]:
    """The pairs with ``arch`` as their teacher (``role='teacher'``) or
    student (any other role)."""
    index = 0 if role == 'teacher' else 1
    return [p for p in PAIRS if p.split('_')[index] == arch]


def top1_text(value: float) -> str:
    return f'{value:.2f}'


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
                    student, pair, published(method, dataset, pair),
                    teacher=(config_for(dataset, pair, 'teacher'),
                             published('teacher', dataset, pair)),
                    student=(config_for(dataset, pair, 'baseline'),
                             published('baseline', dataset, pair))))
        else:
            archs = TEACHERS if folder.kind == 'teacher' else STUDENTS
            for arch in archs:
                pair = pairs_with(arch, folder.kind)[0]
                cards.append(Card(
                    config_for(dataset, pair, folder.kind), dataset,
                    folder.kind, arch, pair,
                    published(folder.kind, dataset, pair)))
    return cards


def other_published(folder: Folder,
                    card: Card) -> List[Tuple[str, float]]:
    """Other published numbers for a teacher / baseline shared by pairs
    (the SUN397 ResNet-50 teacher: 61.69 and 51.59, as published)."""
    if folder.kind == 'distill':
        return []
    out = []
    for pair in pairs_with(card.arch, folder.kind)[1:]:
        value = published(folder.kind, card.dataset, pair)
        if value is not None and value != card.top1:
            out.append((pair, value))
    return out
