# ResNet-50 teacher starting from the authors' exact ImageNet weights:
# torchvision's V1 checkpoint resnet50-0676ba61.pth, which MMEngine's
# ``torchvision://resnet50`` resolves to (MMPretrain's ResNet backbone has
# torchvision's key names). All layers train; the classifier is a new
# nn.Linear with PyTorch's default init, as in the authors' _resnet().
# Offline: convert the file with tools/model_converters/
# torchvision_to_mmpretrain.py and set checkpoint to it with
# prefix='backbone'. resnet50_mmpretrain-in1k-pre.py starts from
# MMPretrain's ImageNet weights instead.
_base_ = ['mmpretrain::_base_/models/resnet50.py']

model = dict(
    # ImageNet's statistics, the Places365 runs' normalisation; the
    # configs on the authors' datasets override mean and std.
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        zero_init_residual=False,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    head=dict(init_cfg=None))
