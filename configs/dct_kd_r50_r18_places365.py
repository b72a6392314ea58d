# Flagship: DCT-driven attention KD (the authors' DCT method: ALPHA 1, CE
# weight 1, four stages, teacher-correct gating), ResNet-50 -> ResNet-18 on
# Places365, 1 GPU x 128, 70 epochs: the recipe of the zoo's
# configs/distill/dct/dct_resnet50_resnet18_1xb128-70e_*.py. Places365 is
# not in the authors' code: the teacher is CSAIL's public Places365
# ResNet-50 (converted: docs/zoo.md, "The flagship in three commands"),
# and images are normalised with the ImageNet statistics it was trained with.
# Hinton KD is not added here (that is configs/distill/dct-kd/).
_base_ = [
    '_base_/datasets/places365_bs128.py',
    '_base_/distill/dct_resnet50_resnet18.py',
]

teacher_ckpt = 'checkpoints/resnet50_places365.pth'  # see docs/zoo.md
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt=teacher_ckpt,
)
