# Baseline: Attention transfer (MMRazor ATLoss, four stages),
# ResNet-50 -> ResNet-18 on SUN397.
_base_ = [
    '../_base_/datasets/sun397_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/distill_runtime.py',
    '../_base_/distill/pair_r50_r18.py',
    '../_base_/distill/at_resnet_stages.py',
]

model = dict(
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt='checkpoints/resnet50_sun397.pth',
    distiller={{_base_.at_distiller}},
)
