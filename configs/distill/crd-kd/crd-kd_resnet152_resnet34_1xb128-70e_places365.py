# CRD + KD: ResNet-152 -> ResNet-34 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet152_in1k-pre_1xb128-70e_places365.py.
_base_ = [
    '../../_base_/datasets/crd/places365.py',
    '../../_base_/distill/crd-kd_resnet152_resnet34.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    distiller=dict(distill_losses=dict(
        loss_crd=dict(sample_n={{_base_.crd_sample_n}}))),
    teacher_ckpt='checkpoints/resnet152_places365.pth',
)
