# DCT-KD: ResNet-152 -> ResNet-34 on Places365-Standard, DCTAttentionLoss on
# four stages with teacher-correct gating. Needs the teacher trained by
# configs/teachers/resnet152_places365.py.
_base_ = [
    '../_base_/datasets/places365_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/distill_runtime.py',
    '../_base_/distill/pair_r152_r34.py',
    '../_base_/distill/dct_resnet_stages.py',
]

model = dict(
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt='checkpoints/resnet152_places365.pth',
    distiller={{_base_.dct_distiller}},
)
