# Demo teacher: MMPretrain ResNet-50 classifier trained from scratch on the
# synthetic scenes (tools/run_demo.py trains it first).
_base_ = [
    './_base_/synthetic_scenes.py',
    './_base_/demo_schedule.py',
    './_base_/demo_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ),
                  style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}},
              in_channels=2048,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, 5)),
)
