# CKD + KD: ResNet-50 -> MobileNetV2 on SUN397, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet50_in1k-pre_1xb128-70e_sun397.py.
_base_ = [
    '../../_base_/datasets/sun397_bs128.py',
    '../../_base_/distill/ckd-kd_resnet50_mobilenet-v2.py',
]

# SemCKD's attention MLPs are sized by the batch (the loss's batch_size,
# 128) and take no other: drop the short last batch of an epoch, as the
# authors skip it (trainCNNs.py).
train_dataloader = dict(drop_last=True)

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt='checkpoints/resnet50_sun397.pth',
)
