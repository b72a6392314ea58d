# ResNet-152 teacher -> ResNet-34 student.
_base_ = ['./pair_r50_r18.py']

model = dict(
    architecture=dict(backbone=dict(depth=34)),
    teacher=dict(backbone=dict(depth=152)),
)
