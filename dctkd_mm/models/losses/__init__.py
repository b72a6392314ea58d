from .authors_crd_loss import AuthorsCRDLoss  # noqa: F401
from .dct import DCTAttentionLoss
from .pkt_loss import PKTLoss  # noqa: F401
from .vid_loss import VIDLoss  # noqa: F401
from .semckd_loss import SemCKDLoss  # noqa: F401

__all__ = ['DCTAttentionLoss']
