# ResNet-50 teacher -> MobileNetV2 student (torchvision's: Dropout 0.2
# before the classifier, Normal(0, 0.01) classifier init).
_base_ = ['./pair_r50_r18.py']

model = dict(
    architecture=dict(
        backbone=dict(_delete_=True, type='mmpretrain.MobileNetV2',
                      widen_factor=1.0),
        head=dict(type='mmpretrain.DropoutLinearClsHead', dropout_rate=0.2,
                  in_channels=1280,
                  init_cfg=dict(_delete_=True, type='Normal', layer='Linear',
                                std=0.01))),
)
