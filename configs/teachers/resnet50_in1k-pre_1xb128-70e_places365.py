# ResNet-50 teacher on Places365: the authors' torchvision ImageNet
# weights (_base_/models/resnet50_tv-in1k-pre.py;
# resnet50_mmpretrain-in1k-pre.py for MMPretrain's), all layers fine-tuned,
# lr 0.01, 1 GPU x 128, 70 epochs.
# The Places365 ResNet-50 teacher the zoo uses is CSAIL's public one,
# converted (docs/zoo.md); this config retrains it the zoo's way.
_base_ = [
    '../_base_/models/resnet50_tv-in1k-pre.py',
    '../_base_/datasets/places365_bs128.py',
    '../_base_/schedules/scene_sgd_70e_finetune.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # data_preprocessor: the base's, ImageNet's mean/std (Places365's).
    head=dict(num_classes=365))
