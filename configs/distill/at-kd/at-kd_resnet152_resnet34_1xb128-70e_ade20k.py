# AT + KD: ResNet-152 -> ResNet-34 on ADE20K scenes, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet152_in1k-pre_1xb128-70e_ade20k.py.
_base_ = [
    '../../_base_/datasets/ade20k_scene_bs128.py',
    '../../_base_/distill/at-kd_resnet152_resnet34.py',
]

model = dict(
    # The authors' normalisation (Config/Dataset/*.yaml).
    data_preprocessor=dict(
        mean=[0.43216 * 255, 0.394666 * 255, 0.37645 * 255],
        std=[0.22803 * 255, 0.22145 * 255, 0.216989 * 255]),
    architecture=dict(head=dict(num_classes=1055)),
    teacher=dict(head=dict(num_classes=1055)),
    teacher_ckpt='checkpoints/resnet152_ade20k.pth',
)
