# Common part of the demo's distillation students: the demo ResNet-50
# teacher (configs/demo/teacher_r50_synthetic.py) -> ResNet-18 student,
# both at quarter width, as in the teacher and baseline configs.
_base_ = [
    './synthetic_scenes.py',
    './demo_schedule.py',
    './demo_runtime.py',
    '../../_base_/distill/pair_r50_r18.py',
]

width = 16
# tools/run_demo.py copies the teacher's final checkpoint here.
teacher_ckpt = 'work_dirs/demo/teacher_r50.pth'
model = dict(
    architecture=dict(
        backbone=dict(base_channels=width, stem_channels=width),
        head=dict(num_classes={{_base_.num_classes}}, in_channels=width * 8)),
    teacher=dict(
        backbone=dict(base_channels=width, stem_channels=width),
        head=dict(num_classes={{_base_.num_classes}},
                  in_channels=width * 8 * 4)),
    teacher_ckpt=teacher_ckpt,
)
# Validate the student only: the teacher is evaluated by its own run, and
# MMRazor's SingleTeacherDistillValLoop would add a ResNet-50 pass.
val_cfg = dict(type='ValLoop')
