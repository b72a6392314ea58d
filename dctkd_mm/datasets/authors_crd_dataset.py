"""The training-set wrapper of the authors' CRD runs.

López-Cifuentes et al. train CRD on ``Libs/Datasets/
SceneRecognitionDatasetCRD.py``: each sample comes with its index and
``neg_num`` contrast indices (the sample first, then negatives drawn
with ``np.random.choice`` from the samples of other classes, with
replacement when there are fewer than ``neg_num``). MMRazor 1.0's
``CRDDataset`` (``sample_mode='exact'``, ``percent=1``) draws the same
way, so it is reused; the differences are all here:

* **The authors' indexing quirk, kept by default** (``authors_indexing``):
  their class lists are built with ``for i in range(nclasses):
  cls_positive[labelsindex[i]].append(i)``, i.e. from the first
  ``num_classes`` samples of the training list only, not all of them
  (RepDistiller's CIFAR code loops over every sample). Negatives are
  therefore drawn from those first ``num_classes`` samples. Where the
  list is shorter than ``num_classes`` (their code raises IndexError) the
  whole list is used. ``authors_indexing=False`` gives RepDistiller's
  (and MMRazor's) sampling over the whole training set.
* The contrast indices are attached to the packed ``data_samples`` as a
  tensor field after the pipeline (MMPretrain 1.2's ``PackInputs`` drops
  unknown keys; MMRazor's ``PackCRDClsInputs`` targets MMClassification
  0.x), so the datasets' own pipelines are used unchanged.
* A class without negatives raises an error naming it (NumPy's is
  "a cannot be empty").

The draws use NumPy's global generator, which the exact-resume loop
saves and restores (with ``num_workers=0`` a resumed run draws the same
indices).
"""
from typing import Optional

import numpy as np
import torch
from mmpretrain.registry import DATASETS
from mmrazor.datasets import CRDDataset


@DATASETS.register_module()
class AuthorsCRDDataset(CRDDataset):
    """MMRazor's ``CRDDataset`` with the authors' contrast sampling.

    Args:
        dataset (dict | BaseDataset): The training dataset.
        neg_num (int): Negatives per sample (K). Defaults to 16384.
        num_classes (int, optional): The authors' ``nclasses``; defaults to
            the wrapped dataset's class count.
        authors_indexing (bool): Keep the authors' first-``num_classes``
            class lists. Defaults to True.
        lazy_init (bool): As MMRazor's. Defaults to False.
    """

    #: The wrapper keeps the wrapped dataset's order and length; to the
    #: resume checks it is a RepeatDataset of one pass, so they fingerprint
    #: the wrapped sample list (a resume on another list is refused).
    times = 1

    def __init__(self,
                 dataset,
                 neg_num: int = 16384,
                 num_classes: Optional[int] = None,
                 authors_indexing: bool = True,
                 lazy_init: bool = False) -> None:
        if isinstance(neg_num, bool) or not isinstance(neg_num, int) \
                or neg_num < 1:
            raise ValueError('AuthorsCRDDataset: neg_num must be a positive '
                             f'int, got {neg_num!r}.')
        self.authors_indexing = bool(authors_indexing)
        if isinstance(dataset, dict):  # MMPretrain's registry, not MMRazor's
            dataset = DATASETS.build(dataset)
        super().__init__(dataset, neg_num=neg_num, percent=1.0,
                         lazy_init=lazy_init, num_classes=num_classes,
                         sample_mode='exact')

    def _parse_fullset_contrast_info(self) -> None:
        if self.dataset.test_mode:
            raise ValueError('AuthorsCRDDataset wraps a training set; got a '
                             f'{type(self.dataset).__name__} in test mode.')
        labels = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        num_classes = self.num_classes
        if num_classes is None:
            classes = self.dataset.metainfo.get('classes')
            num_classes = len(classes) if classes else int(labels.max()) + 1
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f'AuthorsCRDDataset: labels range over {labels.min()}..'
                f'{labels.max()}, outside num_classes={num_classes}.')
        self.gt_labels = labels
        self.num_samples = len(labels)
        # The authors' quirk (see the module docstring): only the first
        # num_classes samples enter the class lists.
        listed = min(num_classes, len(labels)) \
            if self.authors_indexing else len(labels)
        indices = np.arange(listed)
        self.cls_positive = [
            indices[labels[:listed] == c] for c in range(num_classes)
        ]
        # Other classes' samples in increasing class order, as both
        # RepDistiller and the authors concatenate them.
        self.cls_negative = [
            np.concatenate([self.cls_positive[j]
                            for j in range(num_classes) if j != c]
                           or [np.zeros(0, np.int64)]).astype(np.int64)
            for c in range(num_classes)
        ]

    def _get_contrast_info(self, data: dict, idx: int) -> dict:
        label = int(self.gt_labels[idx])
        if len(self.cls_negative[label]) == 0:
            raise ValueError(
                f'AuthorsCRDDataset: class {label} has no negative samples to '
                'contrast with (every sample the class lists hold is of '
                'that class).')
        return super()._get_contrast_info(data, idx)

    def prepare_data(self, idx):
        data_info = self.get_data_info(idx)
        contrast = data_info.pop('contrast_sample_idxs', None)
        data = self.dataset.pipeline(data_info)
        if data is None or contrast is None:
            return data
        contrast = torch.from_numpy(np.asarray(contrast, dtype=np.int64))
        if 'data_samples' in data:  # packed (PackInputs ends the pipeline)
            data['data_samples'].set_field(contrast, 'contrast_sample_idxs')
        else:
            data['contrast_sample_idxs'] = contrast
        return data
