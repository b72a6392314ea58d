# VID for a MobileNetV2 student: the authors' features[1:-1] of their
# MobileNetV2 are features[4:7], [7:14] and [14:], MMPretrain's layer3
# (32 channels), layer5 (96) and conv2 (1280), at the ResNet teacher's
# layer2..layer4 resolutions. Recorder and loss names follow the teacher's
# stages.
_base_ = ['./vid_resnet_stages.py']

vid_distiller = dict(
    student_recorders=dict(
        layer2=dict(source='backbone.layer3'),
        layer3=dict(source='backbone.layer5'),
        layer4=dict(source='backbone.conv2'),
    ),
    distill_losses=dict(
        loss_vid_s2=dict(student_channels=32),
        loss_vid_s3=dict(student_channels=96),
        loss_vid_s4=dict(student_channels=1280),
    ))
