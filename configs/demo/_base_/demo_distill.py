# Common part of the demo's distillation students: ResNet-50 teacher
# (trained by configs/demo/teacher_r50_synthetic.py) -> ResNet-18 student.
_base_ = [
    './synthetic_scenes.py',
    './demo_schedule.py',
    './demo_runtime.py',
    '../../_base_/distill/pair_r50_r18.py',
]

# tools/run_demo.py copies the teacher's final checkpoint here.
teacher_ckpt = 'work_dirs/demo/teacher_r50.pth'
model = dict(
    architecture=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(head=dict(num_classes={{_base_.num_classes}})),
    teacher_ckpt=teacher_ckpt,
)
# Validate the student only: the teacher is evaluated by its own run, and
# MMRazor's SingleTeacherDistillValLoop would add a ResNet-50 pass.
val_cfg = dict(type='ValLoop')
# The frozen teacher's parameters never receive gradients.
find_unused_parameters = True
