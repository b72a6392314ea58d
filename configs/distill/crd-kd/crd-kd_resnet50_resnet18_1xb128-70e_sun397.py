# CRD + KD: ResNet-50 -> ResNet-18 on SUN397, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet50_in1k-pre_1xb128-70e_sun397.py.
_base_ = [
    '../../_base_/datasets/sun397_bs128.py',
    '../../_base_/distill/crd-kd_resnet50_resnet18.py',
]

model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    # The memory bank: one row per training sample (19,850).
    distiller=dict(distill_losses=dict(loss_crd=dict(sample_n=19850))),
    teacher_ckpt='checkpoints/resnet50_sun397.pth',
)
# Contrast indices drawn as the authors' SceneRecognitionDatasetCRD
# draws them, their first-num_classes class lists included.
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AuthorsCRDDataset',
        neg_num={{_base_.crd_neg_num}},
        num_classes={{_base_.num_classes}},
        dataset={{_base_.train_dataloader.dataset}}))
