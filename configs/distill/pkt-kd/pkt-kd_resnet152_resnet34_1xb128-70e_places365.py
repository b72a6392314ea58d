# PKT + KD: ResNet-152 -> ResNet-34 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet152_in1k-pre_1xb128-70e_places365.py.
_base_ = [
    '../../_base_/datasets/places365_bs128.py',
    '../../_base_/distill/pkt-kd_resnet152_resnet34.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt='checkpoints/resnet152_places365.pth',
)
