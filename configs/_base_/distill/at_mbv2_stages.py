# Attention transfer for a MobileNetV2 student: the authors' four
# MobileNetV2 scales (features[:4], [4:7], [7:14], [14:]) are MMPretrain's
# layer2, layer3, layer5 and conv2, at the ResNet teacher's resolutions.
_base_ = ['./at_resnet_stages.py']

at_distiller = dict(
    student_recorders=dict(
        layer1=dict(source='backbone.layer2'),
        layer2=dict(source='backbone.layer3'),
        layer3=dict(source='backbone.layer5'),
        layer4=dict(source='backbone.conv2'),
    ))
