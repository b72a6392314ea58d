# The authors' data protocol (their SceneRecognitionDataset): images decoded
# with PIL, Resize 256 (short edge, PIL bilinear; the long edge truncated
# like torchvision's Resize), RandomCrop 224 + horizontal flip for
# training; Resize 256 + CenterCrop 224 for testing. Normalisation with
# their Config/Dataset/*.yaml statistics (labelled "ImageNet" there, but not
# ImageNet's), scaled to 0..255. CheckedLoadImageFromFile is MMCV's
# LoadImageFromFile with an error naming any corrupt or truncated image.
# The runner hands ``data_preprocessor`` to every model that sets none.
authors_data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[0.43216 * 255, 0.394666 * 255, 0.37645 * 255],
    std=[0.22803 * 255, 0.22145 * 255, 0.216989 * 255],
    to_rgb=True,
)
imagenet_data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
data_preprocessor = authors_data_preprocessor
train_pipeline = [
    dict(type='CheckedLoadImageFromFile', imdecode_backend='pillow'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile', imdecode_backend='pillow'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
scene_evaluator = [
    # Top-5 counts as top-C for a dataset of C < 5 classes (MMPretrain's
    # Accuracy raises there); same keys and numbers otherwise.
    dict(type='ClampedTopKAccuracy', topk=(1, 5)),
    dict(type='MeanClassAccuracy'),
]

# The loaders' and evaluators' shared parts; dataset configs add the
# dataset, batch sizes and samplers by merge.
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = scene_evaluator
test_evaluator = scene_evaluator
