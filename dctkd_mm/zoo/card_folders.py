"""The model-card folders of the zoo: one per distillation method under
``configs/distill/`` (each method's ``-kd`` variant derived from the
method), plus ``configs/teachers`` and ``configs/baselines``
(:mod:`dctkd_mm.zoo.model_cards`)."""
from typing import NamedTuple, Tuple

from .card_papers import (AT_PAPER, CRD_PAPER, DCT_PAPER, KD_PAPER,
                          MOBILENET_V2_PAPER, PKT_PAPER, RESNET_PAPER,
                          SEMCKD_PAPER, VID_PAPER, Paper)
from .paper_table import DATASETS

# Published datasets first, then Places365, for which the authors give no
# numbers (the zoo still has a config for every pair on it).
CARD_DATASETS = DATASETS + ('places365', )
ARCH_TITLES = {'resnet18': 'ResNet-18', 'resnet34': 'ResNet-34',
               'resnet50': 'ResNet-50', 'resnet152': 'ResNet-152',
               'mobilenet-v2': 'MobileNetV2'}
TEACHERS = ('resnet50', 'resnet152')
STUDENTS = ('resnet18', 'resnet34', 'mobilenet-v2')
TOOL = 'python tools/analysis_tools/zoo_report.py'
GENERATOR = 'python -m dctkd_mm.zoo.model_cards'
SOURCE = ("the authors' published top-1 (López-Cifuentes et al. 2022, "
          'README of alexlopezcifuentes/Distillation-Attention)')


class Folder(NamedTuple):
    """One model-card folder: its title, papers and one-line summary."""
    folder: str  # relative to the repository root
    title: str
    collection: str
    papers: Tuple[Paper, ...]  # the first is the collection's Paper
    summary: str
    kind: str  # 'distill', 'teacher' or 'baseline'


class Method(NamedTuple):
    """A distillation method of the authors' table, and how its ``-kd``
    variant's summary names it (``''``: the method has no variant)."""
    name: str  # the folder under configs/distill/
    title: str
    paper: Paper
    summary: str  # without ``note``
    with_kd: str  # the method, as the start of its ``-kd`` summary
    note: str = ''  # ends both summaries (before the full stop)


def _runners(paper: Paper) -> str:
    """Who runs the method on scene recognition: the authors themselves
    for their own loss, else López-Cifuentes et al."""
    return 'the authors' if paper is DCT_PAPER else 'López-Cifuentes et al.'


def _method_folders(method: Method) -> Tuple[Folder, ...]:
    """The method's folder, then its ``-kd`` variant's (if any): the same
    paper plus Hinton's, with the authors' KD weighting."""
    folders = [Folder(f'configs/distill/{method.name}', method.title,
                      method.title, (method.paper, ),
                      method.summary + method.note + '.', 'distill')]
    if method.with_kd:
        folders.append(Folder(
            f'configs/distill/{method.name}-kd', f'{method.title} + KD',
            f'{method.title}-KD', (method.paper, KD_PAPER),
            f"{method.with_kd} plus Hinton's logit KD (T = 4), with the "
            'cross-entropy weighted 0.1, as '
            f'{_runners(method.paper)} run it{method.note}.', 'distill'))
    return tuple(folders)


_AS_RUN = ', as López-Cifuentes et al. run it'
METHODS: Tuple[Method, ...] = (
    Method('dct', 'DCT', DCT_PAPER,
           "The student matches the 2-D frequency transform of the "
           "teacher's per-stage attention maps (their global spatial "
           'structure), with cross-entropy',
           'The DCT-driven attention loss'),
    Method('at', 'AT', AT_PAPER,
           "Attention transfer: the student matches the teacher's "
           'normalised per-stage attention maps (ALPHA = 1000), with '
           'cross-entropy', 'Attention transfer'),
    Method('kd', 'KD', KD_PAPER,
           "The student matches the teacher's softened logits "
           '(T^2 * KL / B, T = 4, weight 0.8) with cross-entropy weighted '
           '0.1' + _AS_RUN, ''),
    Method('pkt', 'PKT', PKT_PAPER,
           'Probabilistic knowledge transfer: the student matches the '
           "teacher's cosine-similarity distribution over the batch of "
           'pooled embeddings (ALPHA = 30000), with cross-entropy'
           + _AS_RUN, 'PKT on the pooled embedding'),
    Method('vid', 'VID', VID_PAPER,
           'Variational information distillation: per stage (the last '
           "three), a trained regressor predicts the teacher's features "
           'from the student\'s under a learned per-channel variance '
           '(ALPHA = 1), with cross-entropy' + _AS_RUN,
           'VID over the last three stages'),
    Method('crd', 'CRD', CRD_PAPER,
           'Contrastive representation distillation: 128-d embeddings '
           'of the pooled features contrasted against 16384 negatives '
           'from a memory bank (T = 0.07, ALPHA = 0.8), with '
           'cross-entropy' + _AS_RUN, 'CRD on the pooled embedding'),
    Method('ckd', 'CKD', SEMCKD_PAPER,
           'Semantic calibration (SemCKD): attention over the last three '
           'stages of both networks weights the MSE between every student '
           'stage, projected, and every teacher stage (ALPHA = 400), with '
           'cross-entropy' + _AS_RUN, 'SemCKD',
           note='; published on ADE20K only'),
)

FOLDERS: Tuple[Folder, ...] = tuple(
    folder for method in METHODS for folder in _method_folders(method)) + (
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
#: The distillation folders' names, in card order (``dct``, ``dct-kd``, ...).
DISTILL_METHODS = tuple(f.folder.rpartition('/')[2] for f in FOLDERS
                        if f.kind == 'distill')
