# CRD + KD: ResNet-152 -> ResNet-34 on Places365, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet152_in1k-pre_1xb128-70e_places365.py.
_base_ = [
    '../../_base_/datasets/crd/places365.py',
    '../../_base_/distill/crd-kd_resnet152_resnet34.py',
]

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    architecture=dict(head=dict(num_classes=365)),
    teacher=dict(head=dict(num_classes=365)),
    distiller=dict(distill_losses=dict(
        loss_crd=dict(sample_n=1803460))),
    teacher_ckpt='checkpoints/resnet152_places365.pth',
)
