# Places365-Standard (365 classes). See docs/datasets.md to prepare it.
_base_ = ['./scene_pipelines.py']

dataset_type = 'Places365'
data_root = 'data/places365'
num_classes = 365

train_dataloader = dict(
    batch_size=32,  # x 4 GPUs = 128, the paper's batch
    num_workers=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline={{_base_.train_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = {{_base_.scene_evaluator}}
test_dataloader = val_dataloader
test_evaluator = val_evaluator
