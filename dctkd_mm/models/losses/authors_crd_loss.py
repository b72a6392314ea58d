"""CRD (Tian et al., ICLR 2020) as López-Cifuentes et al. run it.

Their ``Distillation Zoo/crd/criterion.py`` and ``memory.py`` are
RepDistiller's ``CRDLoss`` and ``ContrastMemory``; MMRazor 1.0's
``CRDLoss``, ``ContrastMemory`` and ``CRDConnector`` (their ``Embed``)
compute the same numbers, operation for operation, so they are reused.
What differs, and is all this subclass changes:

* MMRazor stores ``loss_weight`` but never applies it; the authors scale
  the loss by ALPHA (0.8, ``config_CRD.yaml``), so it is applied here.
* MMRazor wants ``sample_idx`` / ``contrast_sample_idxs`` as tensor data
  fields (its ``PackCRDClsInputs``, written for MMClassification 0.x).
  MMPretrain 1.2's ``PackInputs`` keeps ``sample_idx`` as an int in the
  metainfo and :class:`~dctkd_mm.datasets.AuthorsCRDDataset` attaches the
  contrast indices as a tensor, so both are read from there.
* MMRazor builds an alias-method sampler over all ``sample_n`` samples in
  a Python loop (about 2 minutes for Places365's 1.8 M) for drawing
  negatives itself; the authors always pass the dataset's contrast
  indices, so it is never used and is not built.
* Indices outside the memory bank and a contrast width other than
  ``neg_num + 1`` raise errors naming them (MMRazor indexes out of range
  or fails in ``view``), and a checkpoint whose memory bank has another
  shape is refused instead of MMEngine's warning-and-keep-random.

The memory bank (``contrast.memory_v1/memory_v2``) and the normalisation
constants Z (``contrast.params``, fixed by the first training batch) are
buffers: they are in every checkpoint and restored on resume. The memory
is updated only in training steps, as in the authors' loop (their
validation passes no indices and adds 0).
"""
from typing import List, Sequence
from unittest import mock

import torch
from mmrazor.models.losses import CRDLoss
from mmrazor.models.losses import crd_loss as _mmrazor_crd
from mmrazor.registry import MODELS

_MEMORY_KEYS = ('contrast.params', 'contrast.memory_v1',
                'contrast.memory_v2')


class _NoSampler:
    """Stands in for MMRazor's ``AliasMethod`` (no random draws at
    construction, so the memory bank's initial values are unchanged)."""

    def __init__(self, probs) -> None:
        pass

    def cuda(self) -> None:
        pass

    def draw(self, num: int):
        raise RuntimeError('AuthorsCRDLoss draws no negatives itself: the '
                           'contrast_sample_idxs come from AuthorsCRDDataset.')


@MODELS.register_module()
class AuthorsCRDLoss(CRDLoss):
    """MMRazor's ``CRDLoss`` weighted by ``loss_weight``, fed from
    MMPretrain data samples.

    Args:
        loss_weight (float): The authors' ALPHA. Defaults to 0.8.
        temperature (float): NCE temperature T. Defaults to 0.07.
        neg_num (int): Negatives K per sample. Defaults to 16384.
        sample_n (int): Size of the memory bank: the number of training
            samples (the authors' ``len(trainDataset)``). Required.
        dim_out (int): Embedding size. Defaults to 128.
        momentum (float): Memory momentum. Defaults to 0.5.
        eps (float): Defaults to 1e-7.
    """

    def __init__(self,
                 loss_weight: float = 0.8,
                 temperature: float = 0.07,
                 neg_num: int = 16384,
                 sample_n: int = None,
                 dim_out: int = 128,
                 momentum: float = 0.5,
                 eps: float = 1e-7) -> None:
        for name, value in (('sample_n', sample_n), ('neg_num', neg_num),
                            ('dim_out', dim_out)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < 1:
                raise ValueError(
                    f'AuthorsCRDLoss: {name} must be a positive int (sample_n'
                    f' is the number of training samples), got {value!r}.')
        with mock.patch.object(_mmrazor_crd, 'AliasMethod', _NoSampler):
            super().__init__(loss_weight=loss_weight,
                             temperature=temperature, neg_num=neg_num,
                             sample_n=sample_n, dim_out=dim_out,
                             momentum=momentum, eps=eps)
        self.sample_n, self.neg_num = sample_n, neg_num

    def forward(self, s_feats: torch.Tensor, t_feats: torch.Tensor,
                data_samples: Sequence) -> torch.Tensor:
        """``loss_weight * (student-anchored + teacher-anchored NCE)``.

        ``s_feats``/``t_feats`` are the embedded, L2-normalised features
        (``CRDConnector`` outputs); ``data_samples`` carry ``sample_idx``
        and ``contrast_sample_idxs`` (the sample itself first).
        """
        device = s_feats.device
        idx = torch.as_tensor(self._sample_idxs(data_samples),
                              dtype=torch.long, device=device)
        rows = [torch.as_tensor(s.contrast_sample_idxs) for s in data_samples]
        bad = [tuple(r.shape) for r in rows if r.shape != (self.neg_num + 1, )]
        if bad:
            raise ValueError(
                f'AuthorsCRDLoss: contrast_sample_idxs of shape {bad[0]}, '
                f'expected ({self.neg_num + 1},) (neg_num + 1): the dataset '
                'wrapper and the loss must use the same neg_num.')
        contrast = torch.stack(rows).to(device=device, dtype=torch.long)
        self._check_indices(idx, contrast)
        out_s, out_t = self.contrast(s_feats, t_feats, idx, contrast)
        loss = self.criterion_s_t(out_s) + self.criterion_s_t(out_t)
        # RepDistiller's loss has shape [1]; a scalar logs the same number.
        return (self.loss_weight * loss).reshape(())

    @staticmethod
    def _sample_idxs(data_samples: Sequence) -> List[int]:
        missing = [
            i for i, s in enumerate(data_samples)
            if 'sample_idx' not in s or 'contrast_sample_idxs' not in s
        ]
        if missing:
            raise KeyError(
                'AuthorsCRDLoss needs `sample_idx` and `contrast_sample_idxs` '
                f'in every data sample (samples {missing} lack one): wrap the '
                "training dataset in type='AuthorsCRDDataset'.")
        return [int(s.sample_idx) for s in data_samples]

    def _check_indices(self, idx: torch.Tensor,
                       contrast: torch.Tensor) -> None:
        for name, value in (('sample_idx', idx),
                            ('contrast_sample_idxs', contrast)):
            if value.numel() and (value.min() < 0
                                  or value.max() >= self.sample_n):
                raise IndexError(
                    f'AuthorsCRDLoss: {name} up to {int(value.max())} but the '
                    f'memory bank holds sample_n={self.sample_n} samples: '
                    'set sample_n to the number of training samples.')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        for key in _MEMORY_KEYS:
            saved = state_dict.get(prefix + key)
            own = self.get_buffer(key)
            if saved is not None and tuple(saved.shape) != tuple(own.shape):
                raise ValueError(
                    f"AuthorsCRDLoss: checkpoint's '{prefix}{key}' has shape "
                    f'{tuple(saved.shape)}, this model {tuple(own.shape)} '
                    '(sample_n or dim_out differ): the memory bank cannot '
                    'be restored.')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
