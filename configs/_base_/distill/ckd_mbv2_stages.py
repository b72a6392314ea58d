# SemCKD for a MobileNetV2 student: the authors' features[1:-1] of their
# MobileNetV2 are features[4:7], [7:14] and [14:], i.e. MMPretrain's
# layer3, layer5 and conv2 (32, 96 and 1280 channels), at the ResNet
# teacher's layer2..layer4 resolutions.
_base_ = ['./ckd_resnet_stages.py']

ckd_distiller = dict(
    student_recorders=dict(
        layer2=dict(source='backbone.layer3'),
        layer3=dict(source='backbone.layer5'),
        layer4=dict(source='backbone.conv2'),
    ),
    distill_losses=dict(loss_ckd=dict(student_channels=[32, 96, 1280])),
)
