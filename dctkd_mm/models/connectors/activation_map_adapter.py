from typing import Dict, Optional

import torch
import torch.nn as nn
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS


@MODELS.register_module()
class ActivationMapAdapter(BaseConnector):
    """Activation map adaptive module (AMAM).

    "Activation Map Adaptation for Effective Knowledge Distillation", Wu et
    al., 2020, https://arxiv.org/abs/2010.13500. A small trainable block on
    the teacher side adapts the teacher's supervisory maps while the
    student learns, so the student is guided by maps it can reach.

    The block is residual, ``F + W2(ReLU(BN(W1(F))))`` with 1x1 convs, and
    its last conv starts at zero: at step 0 it passes the teacher's feature
    through unchanged and only drifts from it as far as the distillation
    loss pulls. Placed as the teacher-side ``connector`` of a
    ``loss_forward_mappings`` entry, its parameters live in the distiller,
    are optimised with the student, and are dropped by
    ``tools/export_student.py``.

    Args:
        in_channels (int): Channels of the teacher feature.
        reduction (int): Bottleneck ratio of the hidden width.
            Defaults to 4.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 reduction: int = 4,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if in_channels < 1 or reduction < 1:
            raise ValueError('ActivationMapAdapter: in_channels and '
                             'reduction must be >= 1, got '
                             f'{in_channels} and {reduction}')
        hidden = max(1, in_channels // reduction)
        self.in_channels = in_channels
        self.squeeze = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.norm = nn.BatchNorm2d(hidden)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(hidden, in_channels, 1)
        # Identity at start; init_weights must not undo this.
        self._zero_init_expand()

    def _zero_init_expand(self) -> None:
        nn.init.zeros_(self.expand.weight)
        nn.init.zeros_(self.expand.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_init_expand()

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        if feature.dim() != 4 or feature.shape[1] != self.in_channels:
            raise ValueError(
                f'ActivationMapAdapter(in_channels={self.in_channels}) got a '
                f'feature of shape {tuple(feature.shape)}')
        return feature + self.expand(self.act(self.norm(self.squeeze(feature))))
