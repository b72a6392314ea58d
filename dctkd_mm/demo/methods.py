"""The demo's arms: method name -> config file in ``configs/demo/``.

Adding an arm
-------------
1. Write a config in ``configs/demo/`` that builds the student run: a
   plain MMPretrain classifier (like ``student_r18_synthetic.py``) or a
   distillation model on ``_base_/demo_distill.py`` (the demo teacher and
   the ResNet-18 student). Give every loss the *authors'* weight; the demo
   rescales it to its small feature maps by one rule
   (:mod:`dctkd_mm.demo.loss_scaling`; a new loss type needs its exponent
   there).
2. Add one line to :data:`DEMO_METHODS` below::

       'hint': DemoMethod('hint', 'hint_r18_synthetic.py',
                          'ResNet-18 + FitNets hint'),

   or, from code outside the package, call :func:`register_demo_method`.
3. ``python tools/run_demo.py --methods baseline,hint`` runs it
   (``--methods all``: every registered arm; without ``--methods``: the
   paper's arms, :data:`DEFAULT_METHODS`). The report compares each
   distillation arm with the baseline, AT and KD.

The student of every arm starts from the same weights for a given seed
(the run's ``init_cfg`` is overridden with the seed's saved
initialisation), so paired differences compare methods, not seeds.
"""
import os.path as osp
from typing import Dict, NamedTuple

from ..packaged_configs import CONFIG_ROOT

#: ``configs/demo`` as the installed package carries it.
CONFIG_DIR = osp.join(CONFIG_ROOT, 'demo')

#: The teacher's config; trained once per data/schedule setting and cached.
TEACHER_CONFIG = 'teacher_r50_synthetic.py'
#: The reference arms every distillation arm is compared with, in order.
BASELINE, REFERENCES = 'baseline', ('baseline', 'at', 'kd')


class DemoMethod(NamedTuple):
    """One arm of the demo.

    Attributes:
        name (str): The name used by ``--methods`` and in ``results.json``.
        config (str): File name in :data:`CONFIG_DIR`.
        label (str): Row title of the report.
    """
    name: str
    config: str
    label: str

    @property
    def distills(self) -> bool:
        """Whether the arm needs the teacher (every arm but the baseline)."""
        return self.name != BASELINE

    @property
    def config_path(self) -> str:
        return osp.join(CONFIG_DIR, self.config)


def _arms(*arms: DemoMethod) -> Dict[str, DemoMethod]:
    return {arm.name: arm for arm in arms}


#: Registered arms, in the order the report lists them.
DEMO_METHODS: Dict[str, DemoMethod] = _arms(
    DemoMethod('baseline', 'student_r18_synthetic.py',
               'ResNet-18 alone (baseline)'),
    DemoMethod('at', 'at_r18_synthetic.py', 'ResNet-18 + AT'),
    DemoMethod('kd', 'kd_r18_synthetic.py', 'ResNet-18 + KD'),
    DemoMethod('at+kd', 'at_kd_r18_synthetic.py', 'ResNet-18 + AT + KD'),
    DemoMethod('dct', 'dct_r18_synthetic.py',
               'ResNet-18 + DCT (authors\' transform)'),
    DemoMethod('dct+kd', 'dct_kd_r18_synthetic.py', 'ResNet-18 + DCT + KD'),
    DemoMethod('dct-ii', 'dct_ii_r18_synthetic.py',
               'ResNet-18 + DCT (orthonormal DCT-II)'),
    # Wu et al.'s activation-map adaptive module (our reading; H4):
    DemoMethod('hint', 'hint_r18_synthetic.py', 'ResNet-18 + hint (L2)'),
    DemoMethod('hint+adaptive', 'hint_adaptive_r18_synthetic.py',
               'ResNet-18 + hint, adaptive teacher module'),
    DemoMethod('dct+adaptive', 'dct_adaptive_r18_synthetic.py',
               'ResNet-18 + DCT, adaptive teacher module'),
    # The authors' other methods (issue 20). CRD wraps the training set
    # (AuthorsCRDDataset) and CKD's SemCKD modules are sized by the batch:
    # training.student_job sets CRD's sample_n (the training images), and
    # CKD's batch_size with the short last batch dropped, from the demo's
    # settings.
    DemoMethod('pkt', 'pkt_r18_synthetic.py', 'ResNet-18 + PKT'),
    DemoMethod('pkt+kd', 'pkt_kd_r18_synthetic.py', 'ResNet-18 + PKT + KD'),
    DemoMethod('vid', 'vid_r18_synthetic.py', 'ResNet-18 + VID'),
    DemoMethod('vid+kd', 'vid_kd_r18_synthetic.py', 'ResNet-18 + VID + KD'),
    DemoMethod('crd', 'crd_r18_synthetic.py', 'ResNet-18 + CRD'),
    DemoMethod('crd+kd', 'crd_kd_r18_synthetic.py', 'ResNet-18 + CRD + KD'),
    DemoMethod('ckd', 'ckd_r18_synthetic.py', 'ResNet-18 + CKD (SemCKD)'),
    DemoMethod('ckd+kd', 'ckd_kd_r18_synthetic.py',
               'ResNet-18 + CKD (SemCKD) + KD'),
    # The fast teacher forward (bf16 autocast, channels-last): does it
    # change the student's accuracy? Compare with ``dct``.
    DemoMethod('dct+fast-teacher', 'dct_fast_teacher_r18_synthetic.py',
               'ResNet-18 + DCT, fast (bf16) teacher'),
)


#: The arms of the default run: the baseline, the paper's two reference
#: methods (AT, KD) and its two DCT arms, at five paired seeds: what fits
#: in 10 minutes on 2 CPU cores (docs/demo_regimes.md). The other
#: registered arms run when named in ``--methods`` (``--methods all`` runs
#: every registered arm).
DEFAULT_METHODS = ('baseline', 'at', 'kd', 'dct', 'dct+kd')


def register_demo_method(name: str, config: str, label: str) -> DemoMethod:
    """Add an arm (see the module docstring); its config must exist."""
    if name in DEMO_METHODS:
        raise ValueError(f'demo method {name!r} is already registered '
                         f'(config {DEMO_METHODS[name].config})')
    arm = DemoMethod(name, config, label)
    if not osp.isfile(arm.config_path):
        raise FileNotFoundError(f'demo method {name!r}: config '
                                f'{arm.config_path} does not exist')
    DEMO_METHODS[name] = arm
    return arm


def get_methods(names) -> Dict[str, DemoMethod]:
    """The arms named in ``names`` (registry order), or a clear error."""
    unknown = [n for n in names if n not in DEMO_METHODS]
    if unknown:
        raise ValueError(f'unknown demo method(s) {unknown}; registered: '
                         f'{list(DEMO_METHODS)}')
    return {n: m for n, m in DEMO_METHODS.items() if n in names}
