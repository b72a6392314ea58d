# ADE20K scene recognition: every scene category present (1055).
# See docs/datasets.md to prepare it. Shares pipelines and loaders with
# places365_bs128.py.
_base_ = ['./places365_bs128.py']

num_classes = 1055
# The authors' normalisation (Config/Dataset/*.yaml), not Places365's.
data_preprocessor = {{_base_.authors_data_preprocessor}}
_data = dict(type='ADE20KScene', data_root='data/ADEChallengeData2016')
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=dict(_data, split='val'))
test_dataloader = val_dataloader
