# PKT: ResNet-50 -> ResNet-18 on MIT Indoor 67, 1 GPU x 128, 70 epochs.
# Teacher: trained by
# configs/teachers/resnet50_in1k-pre_1xb128-70e_mit67.py.
_base_ = [
    '../../_base_/datasets/mit67_bs128.py',
    '../../_base_/distill/pkt_resnet50_resnet18.py',
]

model = dict(
    # The authors' normalisation (Config/Dataset/*.yaml).
    data_preprocessor=dict(
        mean=[0.43216 * 255, 0.394666 * 255, 0.37645 * 255],
        std=[0.22803 * 255, 0.22145 * 255, 0.216989 * 255]),
    architecture=dict(head=dict(num_classes=67)),
    teacher=dict(head=dict(num_classes=67)),
    teacher_ckpt='checkpoints/resnet50_mit67.pth',
)
