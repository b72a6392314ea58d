# Places365-Standard (365 classes). See docs/datasets.md to prepare it.
# One GPU x 128 images, the authors' batch (BatchNorm sees all 128); their
# test batch of 256.
_base_ = ['./scene_pipelines.py']

dataset_type = 'Places365'
data_root = 'data/places365'
num_classes = 365

# Places365 is not in the authors' code. Its public teacher (CSAIL's
# resnet50_places365.pth.tar) was trained with ImageNet's mean/std, so
# Places365 runs normalise with those, teacher and student alike.
data_preprocessor = {{_base_.imagenet_data_preprocessor}}

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='train'),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='val'),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
