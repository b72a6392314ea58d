# Common part of the demo's distillation arms: the demo ResNet-50 teacher
# (teacher_r50_synthetic.py) -> ResNet-18 student, both at quarter width
# like the teacher and baseline configs. Every arm gives its losses the
# authors' weights; dctkd_mm.demo rescales the feature losses to the
# demo's small maps by one rule (dctkd_mm/demo/loss_scaling.py).
_base_ = [
    './synthetic_scenes.py',
    './demo_schedule.py',
    './demo_runtime.py',
    '../../_base_/distill/pair_r50_r18.py',
]

width = 16
# tools/run_demo.py points this at its cached teacher.
teacher_ckpt = 'work_dirs/demo/teacher_r50.pth'
model = dict(
    architecture=dict(
        # The authors' students use torchvision's initialisation, which
        # does not zero the last BN of each residual block.
        backbone=dict(base_channels=width, stem_channels=width,
                      zero_init_residual=False),
        head=dict(num_classes=16, in_channels=width * 8)),
    teacher=dict(
        backbone=dict(base_channels=width, stem_channels=width),
        head=dict(num_classes=16,
                  in_channels=width * 8 * 4)),
    teacher_ckpt=teacher_ckpt,
)
# Validate the student only: the teacher is evaluated by its own run, and
# MMRazor's SingleTeacherDistillValLoop would add a ResNet-50 pass.
val_cfg = dict(type='ValLoop')
