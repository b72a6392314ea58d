# ResNet-50 teacher on MIT Indoor 67, fine-tuned from ImageNet-1k.
_base_ = [
    '../_base_/models/resnet50_in1k_finetune.py',
    '../_base_/datasets/mit67_bs128.py',
    '../_base_/schedules/scene_sgd_70e_finetune.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes={{_base_.num_classes}}))
