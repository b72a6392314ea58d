# ResNet-152 teacher on SUN397: the authors' torchvision ImageNet
# weights (_base_/models/resnet152_tv-in1k-pre.py;
# resnet152_mmpretrain-in1k-pre.py for MMPretrain's), all layers fine-tuned,
# lr 0.01, 1 GPU x 128, 70 epochs.
_base_ = [
    '../_base_/models/resnet152_tv-in1k-pre.py',
    '../_base_/datasets/sun397_bs128.py',
    '../_base_/schedules/scene_sgd_70e_finetune.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # The authors' normalisation (Config/Dataset/*.yaml).
    data_preprocessor=dict(
        mean=[0.43216 * 255, 0.394666 * 255, 0.37645 * 255],
        std=[0.22803 * 255, 0.22145 * 255, 0.216989 * 255]),
    head=dict(num_classes=397))
