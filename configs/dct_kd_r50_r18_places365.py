# Flagship: ResNet-50 (Places365 checkpoint) -> ResNet-18 (from scratch) on
# Places365 with DCTAttentionLoss on the four stages, teacher-correct
# gating on. The paper's schedule: 70 epochs, batch 128 (4 GPUs x 32).
_base_ = [
    '_base_/datasets/places365_bs128.py',
    '_base_/schedules/scene_sgd_70e.py',
    '_base_/distill_runtime.py',
    '_base_/distill/pair_r50_r18.py',
    '_base_/distill/dct_resnet_stages.py',
]

teacher_ckpt = 'checkpoints/resnet50_places365.pth'  # see README
model = dict(
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt=teacher_ckpt,
    distiller={{_base_.dct_distiller}},
)
