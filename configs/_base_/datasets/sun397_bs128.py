# SUN397 (397 classes) with MMPretrain's own SUN397 dataset class.
# See docs/datasets.md to prepare it. Shares pipelines and loaders with
# places365_bs128.py.
_base_ = ['./places365_bs128.py']

num_classes = 397
# The authors' normalisation (Config/Dataset/*.yaml), not Places365's.
data_preprocessor = {{_base_.authors_data_preprocessor}}
_data = dict(type='SUN397', data_root='data/SUN397')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=dict(_data, split='test'))
test_dataloader = val_dataloader
