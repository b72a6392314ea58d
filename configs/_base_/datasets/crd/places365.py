# Places365 for CRD: the training set wrapped to give each sample its
# index and contrast indices, and the memory bank's size (one row per
# training sample, 1,803,460) for the leaf configs' loss_crd.sample_n.
# Places365 is not in the authors' code, and their first-num_classes
# class lists (AuthorsCRDDataset) cannot run on its class-sorted list
# (the first 365 samples are all of one class): negatives come from the
# whole training set, as in RepDistiller. The memory bank holds
# 2 x 1,803,460 x 128 floats (1.8 GB, in every checkpoint).
_base_ = ['../places365_bs128.py']

crd_sample_n = 1803460
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AuthorsCRDDataset',
        # The authors' K; equal to the loss's neg_num (crd_neck.py),
        # which the loss checks.
        neg_num=16384,
        num_classes=365, authors_indexing=False,
        dataset={{_base_.train_dataloader.dataset}}))
