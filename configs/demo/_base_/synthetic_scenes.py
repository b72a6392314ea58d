# Synthetic scenes (dctkd_mm.datasets.synthetic_scenes) in the
# Places365-Standard layout, read by the real Places365 dataset class.
# Small images, decoded once per process (CachedLoadImageFromFile), and no
# worker processes: the demo runs on a 2-core CPU, where extra processes
# only steal cores from the model.
_base_ = ['../../_base_/datasets/places365_bs128.py']

data_root = 'data/synthetic_scenes'  # tools/run_demo.py overrides it
num_classes = 16
image_size = 64

# No flip: a flip turns "A left of B" into "B left of A", which is another
# class here. A small shift keeps the arrangement and adds variety.
train_pipeline = [
    dict(type='CachedLoadImageFromFile'),
    dict(type='RandomCrop', crop_size=image_size, padding=4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CachedLoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
