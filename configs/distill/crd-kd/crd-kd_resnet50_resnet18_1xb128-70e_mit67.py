# CRD + KD: ResNet-50 -> ResNet-18 on MIT Indoor 67, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet50_in1k-pre_1xb128-70e_mit67.py.
_base_ = [
    '../../_base_/datasets/crd/mit67.py',
    '../../_base_/distill/crd-kd_resnet50_resnet18.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    distiller=dict(distill_losses=dict(
        loss_crd=dict(sample_n={{_base_.crd_sample_n}}))),
    teacher_ckpt='checkpoints/resnet50_mit67.pth',
)
