# ResNet-50 teacher -> MobileNet-V2 student.
_base_ = ['./pair_r50_r18.py']

model = dict(
    architecture=dict(
        backbone=dict(_delete_=True, type='mmpretrain.MobileNetV2',
                      widen_factor=1.0),
        head=dict(in_channels=1280)),
)
