from typing import Dict, Optional

import torch
import torch.nn as nn
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS


@MODELS.register_module()
class ResidualFeatureAdapter(BaseConnector):
    """A zero-initialised residual 1x1-conv bottleneck applied to a recorded
    feature: ``F + W2(ReLU(BN(W1(F))))``.

    A side-branch connector: used as the ``connector`` of a
    ``loss_forward_mappings`` argument it changes only what that loss sees.
    The model the feature was recorded from (its later blocks, head and
    logits) never sees the adapted feature, and the adapter is trained by
    the loss alone. It is *not* Wu et al.'s activation-map adaptive module,
    which replaces teacher blocks (see ``AdaptiveTeacherDistill`` and
    docs/adaptive_module.md).

    Its last conv starts at zero, so at step 0 it passes the feature
    through unchanged. Its parameters live in the distiller
    (``distiller.connectors.*``), are optimised with the student and are
    dropped by ``tools/model_converters/export_student.py``.

    Args:
        in_channels (int): Channels of the feature.
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
            raise ValueError('ResidualFeatureAdapter: in_channels and '
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
                f'ResidualFeatureAdapter(in_channels={self.in_channels}) got '
                f'a feature of shape {tuple(feature.shape)}')
        hidden = self.act(self.norm(self.squeeze(feature)))
        return feature + self.expand(hidden)
