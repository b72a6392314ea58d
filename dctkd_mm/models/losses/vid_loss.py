"""Variational information distillation (VID) as the authors of the DCT
paper run it (their ``Distillation Zoo/VID.py``, taken from RepDistiller):
one loss, with its own trainable regressor and variance, per stage."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS


def _conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)


@MODELS.register_module()
class VIDLoss(nn.Module):
    """"Variational Information Distillation for Knowledge Transfer", Ahn
    et al., CVPR 2019 https://arxiv.org/abs/1904.05835.

    https://github.com/ssahn0215/variational-information-distillation

    The teacher's feature map is modelled as a Gaussian whose mean a small
    regressor (1x1 conv, ReLU, 1x1 conv, ReLU, 1x1 conv) predicts from the
    student's map, with one learnt variance per teacher channel,
    ``softplus(log_scale) + eps``; the loss is the mean negative log
    likelihood, without its constant. The regressor and ``log_scale`` are
    parameters of this module: inside MMRazor's distiller they are trained
    with the student, saved in checkpoints and restored on resume, and
    left out of an exported student.

    As in the DCT paper's code (López-Cifuentes et al. 2022, ``trainCNNs.py``
    builds ``VIDLoss(s, t, t)`` per stage): the hidden width is the
    teacher's channel count, the convolutions keep PyTorch's default
    initialisation, and ``log_scale`` starts at ``log(exp(init_pred_var -
    eps) - 1)``, so the initial variance is ``init_pred_var``.

    Args:
        student_channels (int): Channels of the student's map.
        teacher_channels (int): Channels of the teacher's map.
        mid_channels (int, optional): Hidden width of the regressor.
            Defaults to ``teacher_channels`` (the authors').
        init_pred_var (float): Initial variance. Defaults to 5.0.
        eps (float): Variance floor. Defaults to 1e-5.
        loss_weight (float): Weight of loss (their ALPHA). Defaults to 1.0.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 mid_channels: Optional[int] = None,
                 init_pred_var: float = 5.0,
                 eps: float = 1e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        mid_channels = mid_channels or teacher_channels
        for name, value in (('student_channels', student_channels),
                            ('teacher_channels', teacher_channels),
                            ('mid_channels', mid_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f'VIDLoss: {name} must be a positive int, got {value!r}')
        if init_pred_var <= eps or eps <= 0:
            raise ValueError(
                'VIDLoss: need 0 < eps < init_pred_var, got eps '
                f'{eps} and init_pred_var {init_pred_var}')
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.eps = eps
        self.loss_weight = loss_weight
        self.regressor = nn.Sequential(
            _conv1x1(student_channels, mid_channels),
            nn.ReLU(),
            _conv1x1(mid_channels, mid_channels),
            nn.ReLU(),
            _conv1x1(mid_channels, teacher_channels),
        )
        self.log_scale = nn.Parameter(
            math.log(math.expm1(init_pred_var - eps)) *
            torch.ones(teacher_channels))

    def _check(self, s_feature: torch.Tensor,
               t_feature: torch.Tensor) -> None:
        for side, feat, channels in (
                ('student', s_feature, self.student_channels),
                ('teacher', t_feature, self.teacher_channels)):
            if not isinstance(feat, torch.Tensor) or feat.dim() != 4 \
                    or feat.shape[1] != channels:
                shape = tuple(getattr(feat, 'shape', ()))
                raise ValueError(
                    f'VIDLoss: {side} feature must be (B, {channels}, H, W) '
                    f'as configured ({side}_channels={channels}), got '
                    f'{type(feat).__name__} of shape {shape}')
        if s_feature.shape[0] != t_feature.shape[0]:
            raise ValueError(
                'VIDLoss: student and teacher batch sizes differ: '
                f'{tuple(s_feature.shape)} vs {tuple(t_feature.shape)}')

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        """Forward function for VIDLoss.

        Args:
            s_feature (torch.Tensor): Student map, (B, C_s, H, W).
            t_feature (torch.Tensor): Teacher map, (B, C_t, H', W').
        """
        self._check(s_feature, t_feature)
        s_size, t_size = s_feature.shape[-2:], t_feature.shape[-2:]
        # Their code compares heights only and pools the larger map to a
        # square of the smaller height; on the square maps of the zoo's
        # crops that is pooling to the smaller map's size, done here so
        # a non-square map keeps its aspect.
        if s_size[0] > t_size[0]:
            s_feature = F.adaptive_avg_pool2d(s_feature, t_size)
        elif s_size[0] < t_size[0]:
            t_feature = F.adaptive_avg_pool2d(t_feature, s_size)
        pred_mean = self.regressor(s_feature)
        # The likelihood in float32 under autocast too (the authors ran
        # float32): squared differences of deep features and eps = 1e-5
        # do not survive float16.
        with torch.autocast(pred_mean.device.type, enabled=False):
            # log(1 + exp(x)), their softplus, not F.softplus (linear past
            # x = 20): the same up to rounding where it matters.
            pred_var = torch.log(1.0 + torch.exp(self.log_scale.float()))
            pred_var = (pred_var + self.eps).view(1, -1, 1, 1)
            diff = pred_mean.float() - t_feature.float()
            neg_log_prob = 0.5 * (diff.pow(2) / pred_var +
                                  torch.log(pred_var))
        return self.loss_weight * neg_log_prob.mean()
