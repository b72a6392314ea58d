# Demo baseline: the ResNet-18 student trained alone (cross-entropy only),
# same data, schedule and seed as the distilled students.
_base_ = ['./teacher_r50_synthetic.py']

model = dict(
    backbone=dict(depth=18),
    head=dict(in_channels=512),
)
