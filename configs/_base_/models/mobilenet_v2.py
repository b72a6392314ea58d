# MobileNetV2 student as the authors build it (torchvision's): Dropout 0.2
# before the classifier; Kaiming fan-out convs, BN weight 1 and a
# Normal(0, 0.01) classifier with zero bias, which is MMPretrain's init too.
_base_ = ['mmpretrain::_base_/models/mobilenet_v2_1x.py']

model = dict(head=dict(type='DropoutLinearClsHead', dropout_rate=0.2))
