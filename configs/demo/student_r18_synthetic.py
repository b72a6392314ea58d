# Demo baseline: the ResNet-18 student (quarter width, like the teacher)
# trained alone with cross-entropy; same data, schedule, seed and initial
# weights as the distilled students (torchvision-style initialisation:
# zero_init_residual=False, as the authors' students).
_base_ = [
    './_base_/synthetic_scenes.py',
    './_base_/demo_schedule.py',
    './_base_/demo_runtime.py',
]

width = 16
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ),
                  style='pytorch', base_channels=width, stem_channels=width,
                  zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=16,
              in_channels=width * 8,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, 5)),
)
