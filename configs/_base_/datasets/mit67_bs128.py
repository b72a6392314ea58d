# MIT Indoor 67 (67 classes), official TrainImages/TestImages split.
# See docs/datasets.md to prepare it. Shares pipelines and loaders with
# places365_bs128.py.
_base_ = ['./places365_bs128.py']

num_classes = 67
# The authors' normalisation (Config/Dataset/*.yaml), not Places365's.
data_preprocessor = {{_base_.authors_data_preprocessor}}
_data = dict(type='MITIndoor67', data_root='data/mit67')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=dict(_data, split='test'))
test_dataloader = val_dataloader
