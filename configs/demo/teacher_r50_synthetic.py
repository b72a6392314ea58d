# Demo teacher: MMPretrain ResNet-50 classifier trained from scratch on the
# synthetic scenes (tools/run_demo.py trains it first). Quarter width
# (base_channels=16) and a longer, hotter schedule than the students, so a
# 2-core CPU trains a teacher that is clearly better than the students.
_base_ = [
    './_base_/synthetic_scenes.py',
    './_base_/demo_schedule.py',
    './_base_/demo_runtime.py',
]

width = 16  # ResNet's default is 64
max_epochs = 20
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ),
                  style='pytorch', base_channels=width, stem_channels=width),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=16,
              in_channels=width * 8 * 4,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, 5)),
)
optim_wrapper = dict(optimizer=dict(lr=0.2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs,
         T_max=max_epochs - 1, eta_min=0., convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
