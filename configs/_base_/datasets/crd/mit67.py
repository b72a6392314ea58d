# MIT Indoor 67 for CRD: the training set wrapped to give each sample its
# index and contrast indices, and the memory bank's size (one row per
# training sample, 5,360) for the leaf configs' loss_crd.sample_n.
# Contrast indices drawn as the authors' SceneRecognitionDatasetCRD
# draws them, their first-num_classes class lists included.
_base_ = ['../mit67_bs128.py']

crd_sample_n = 5360
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AuthorsCRDDataset',
        # The authors' K; equal to the loss's neg_num (crd_neck.py),
        # which the loss checks.
        neg_num=16384,
        num_classes=67,
        dataset={{_base_.train_dataloader.dataset}}))
