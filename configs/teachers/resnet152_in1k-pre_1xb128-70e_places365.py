# ResNet-152 teacher on Places365: the authors' torchvision ImageNet
# weights (_base_/models/resnet152_tv-in1k-pre.py;
# resnet152_mmpretrain-in1k-pre.py for MMPretrain's), all layers fine-tuned,
# lr 0.01, 1 GPU x 128, 70 epochs.
_base_ = [
    '../_base_/models/resnet152_tv-in1k-pre.py',
    '../_base_/datasets/places365_bs128.py',
    '../_base_/schedules/scene_sgd_70e_finetune.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    head=dict(num_classes=365))
