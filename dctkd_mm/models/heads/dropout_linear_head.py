"""MMPretrain's ``LinearClsHead`` with dropout before the classifier, as
torchvision's MobileNetV2 has (``classifier = Dropout(0.2), Linear``).

MMPretrain's MobileNetV2 head has no dropout; the authors' MobileNetV2
students (their ``Libs/mobilenetv2.py``, torchvision's) train with it. The
parameters keep LinearClsHead's names (``head.fc.*``), so torchvision
weights convert to this head and MMPretrain checkpoints load into it.
"""
from typing import Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """``LinearClsHead`` applying ``nn.Dropout(dropout_rate)`` to the pooled
    features before ``fc`` (active in training mode only).

    Args:
        dropout_rate (float): Probability of zeroing a feature, in [0, 1).
            Defaults to 0.2, torchvision's MobileNetV2.
        **kwargs: ``LinearClsHead`` arguments.
    """

    def __init__(self, *args, dropout_rate: float = 0.2, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0 <= dropout_rate < 1:
            raise ValueError(f'DropoutLinearClsHead: dropout_rate must be in '
                             f'[0, 1), got {dropout_rate!r}')
        self.dropout = nn.Dropout(p=dropout_rate)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.dropout(feats[-1])
