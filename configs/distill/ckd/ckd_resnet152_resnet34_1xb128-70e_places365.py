# CKD: ResNet-152 -> ResNet-34 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet152_in1k-pre_1xb128-70e_places365.py.
_base_ = [
    '../../_base_/datasets/places365_bs128.py',
    '../../_base_/distill/ckd_resnet152_resnet34.py',
]

# SemCKD's attention MLPs are sized by the batch (the loss's batch_size,
# 128) and take no other: drop the short last batch of an epoch, as the
# authors skip it (trainCNNs.py).
train_dataloader = dict(drop_last=True)

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    architecture=dict(head=dict(num_classes=365)),
    teacher=dict(head=dict(num_classes=365)),
    teacher_ckpt='checkpoints/resnet152_places365.pth',
)
