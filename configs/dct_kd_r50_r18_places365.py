# Flagship: DCT-driven attention KD (the authors' DCT method: ALPHA 1, CE
# weight 1, four stages, teacher-correct gating), ResNet-50 -> ResNet-18 on
# Places365, 1 GPU x 128, 70 epochs. A short name for the zoo's
# configs/distill/dct/dct_resnet50_resnet18_1xb128-70e_places365.py, which
# holds the recipe (one file to change). Places365 is not in the authors'
# code: the teacher is CSAIL's public Places365 ResNet-50 (converted:
# docs/zoo.md, "The flagship in three commands"), and images are normalised
# with the ImageNet statistics it was trained with. Hinton KD is not added
# here (that is configs/distill/dct-kd/).
_base_ = ['./distill/dct/dct_resnet50_resnet18_1xb128-70e_places365.py']
