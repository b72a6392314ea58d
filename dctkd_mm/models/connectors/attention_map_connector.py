from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS

from dctkd_mm.models.losses.dct import attention_map, minmax_normalise

_NORMALISATIONS = ('minmax', 'l2', None)


@MODELS.register_module()
class AttentionMapConnector(BaseConnector):
    """Turn a (B, C, H, W) feature into its spatial attention map
    (B, 1, H, W), ``mean_c |F|^p``, so attention maps can feed any MMRazor
    loss (``L2Loss``, ``ATLoss``-style comparisons, ...).

    Args:
        p (float): Exponent of the channel reduction. Defaults to 2.
        normalize (str | None): ``'minmax'`` scales each map to [0, 1] (as
            the DCT-driven loss does), ``'l2'`` to unit L2 norm (as
            attention transfer does), ``None`` keeps raw values.
            Defaults to ``'minmax'``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 p: float = 2,
                 normalize: Optional[str] = 'minmax',
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if normalize not in _NORMALISATIONS:
            raise ValueError(f'AttentionMapConnector: normalize must be one '
                             f'of {_NORMALISATIONS}, got {normalize!r}')
        self.p = p
        self.normalize = normalize

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        if feature.dim() != 4:
            raise ValueError('AttentionMapConnector expects (B, C, H, W), '
                             f'got shape {tuple(feature.shape)}')
        maps = attention_map(feature, self.p)
        if self.normalize == 'minmax':
            maps = minmax_normalise(maps)
        elif self.normalize == 'l2':
            maps = F.normalize(maps.flatten(1), dim=1).view_as(maps)
        return maps.unsqueeze(1)
