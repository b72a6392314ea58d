# CRD: ResNet-50 -> MobileNetV2 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: CSAIL's Places365 ResNet-50, converted (docs/zoo.md, "The flagship
# in three commands").
_base_ = [
    '../../_base_/datasets/places365_bs128.py',
    '../../_base_/distill/crd_resnet50_mobilenet-v2.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    # The memory bank: one row per training sample (1,803,460).
    distiller=dict(distill_losses=dict(loss_crd=dict(sample_n=1803460))),
    teacher_ckpt='checkpoints/resnet50_places365.pth',
)
# Places365 is not in the authors' code, and their first-num_classes
# class lists (AuthorsCRDDataset) cannot run on its class-sorted list
# (the first 365 samples are all of one class): negatives come from the
# whole training set, as in RepDistiller. The memory bank holds
# 2 x 1,803,460 x 128 floats (1.8 GB, in every checkpoint).
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AuthorsCRDDataset',
        neg_num={{_base_.crd_neg_num}},
        num_classes={{_base_.num_classes}}, authors_indexing=False,
        dataset={{_base_.train_dataloader.dataset}}))
