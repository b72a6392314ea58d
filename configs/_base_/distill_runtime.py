# Runtime for distillation configs: MMRazor's validation loop reports the
# student and the teacher (keys prefixed ``student.`` / ``teacher.``).
_base_ = ['./default_runtime.py']

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# The frozen teacher's parameters never receive gradients.
find_unused_parameters = True
