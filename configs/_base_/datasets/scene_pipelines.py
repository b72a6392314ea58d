# Resize 256, random crop 224 + flip for training; resize 256 + center crop
# 224 for testing (the paper's protocol). CheckedLoadImageFromFile is MMCV's
# LoadImageFromFile with an error naming any corrupt or truncated image.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
scene_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='MeanClassAccuracy'),
]
