# DCTAttentionLoss for a MobileNet-V2 student under a ResNet teacher. The
# student's stages are the authors' features[:4], [4:7], [7:14] and [14:]:
# MMPretrain's backbone.layer2, layer3, layer5 and conv2 (1280 channels,
# after ReLU6), at the ResNet stages' 56/28/14/7 px for a 224 px input.
# The recorder names stay layer1..4 so they pair with the teacher's stages.
_base_ = ['./dct_resnet_stages.py']

dct_distiller = dict(
    student_recorders=dict(
        layer1=dict(source='backbone.layer2'),
        layer2=dict(source='backbone.layer3'),
        layer3=dict(source='backbone.layer5'),
        layer4=dict(source='backbone.conv2'),
    ))
