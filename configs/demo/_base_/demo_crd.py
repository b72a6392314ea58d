# CRD on the demo's networks: the authors' CRD (crd_neck.py: ALPHA 0.8,
# K 16384 negatives, T 0.07, momentum 0.5, 128-d embedding) on the
# pooled embeddings, and the demo's training set wrapped as the zoo wraps
# Places365 (configs/_base_/datasets/crd/places365.py: AuthorsCRDDataset,
# negatives from the whole training set). The demo's inner dataset keeps
# its pipeline; tools/run_demo.py points its data_root (under
# train_dataloader.dataset.dataset) at the students' images and sets
# loss_crd.sample_n to their number (--num-classes x --train-per-class).
_base_ = ['./demo_distill.py', '../../_base_/distill/crd_neck.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AuthorsCRDDataset',
        # The authors' K; equal to the loss's neg_num, which it checks.
        neg_num={{_base_.crd_neg_num}},
        authors_indexing=False,
        dataset={{_base_.train_dataloader.dataset}}))
model = dict(distiller={{_base_.crd_distiller}})
