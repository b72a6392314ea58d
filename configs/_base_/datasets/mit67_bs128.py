# MIT Indoor 67 (67 classes), official TrainImages/TestImages split.
# See docs/datasets.md to prepare it. Shares pipelines and loaders with
# places365_bs128.py.
_base_ = ['./places365_bs128.py']

num_classes = 67
_data = dict(type='MITIndoor67', data_root='data/mit67')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=dict(_data, split='test'))
test_dataloader = val_dataloader
