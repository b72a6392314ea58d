# Runtime for distillation configs: MMRazor's validation loop reports the
# student (plain metric keys) and the teacher (keys prefixed ``teacher.``).
_base_ = ['./default_runtime.py']

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
