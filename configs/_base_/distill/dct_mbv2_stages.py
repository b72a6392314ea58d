# DCTAttentionLoss for a MobileNet-V2 student under a ResNet teacher. At
# 224 px the ResNet stages give 56/28/14/7 px maps; MobileNet-V2's layer2,
# layer3, layer5 and layer7 end at the same resolutions.
_base_ = ['./dct_resnet_stages.py']

dct_distiller = dict(
    student_recorders=dict(
        layer1=dict(source='backbone.layer2'),
        layer2=dict(source='backbone.layer3'),
        layer3=dict(source='backbone.layer5'),
        layer4=dict(source='backbone.layer7'),
    ))
