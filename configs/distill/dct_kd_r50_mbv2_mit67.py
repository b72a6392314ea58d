# DCT-KD: ResNet-50 -> MobileNet-V2 on MIT Indoor 67, DCTAttentionLoss on
# four stages with teacher-correct gating. Needs the teacher trained by
# configs/teachers/resnet50_mit67.py.
_base_ = [
    '../_base_/datasets/mit67_bs128.py',
    '../_base_/schedules/scene_sgd_70e.py',
    '../_base_/distill_runtime.py',
    '../_base_/distill/pair_r50_mbv2.py',
    '../_base_/distill/dct_mbv2_stages.py',
]

model = dict(
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt='checkpoints/resnet50_mit67.pth',
    distiller={{_base_.dct_distiller}},
)
