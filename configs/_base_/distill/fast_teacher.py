# The frozen teacher's fast forward (FrozenTeacherDistill ``teacher_fast``):
# no autograd state, channels-last weights and input, bfloat16 autocast for
# the teacher only, its features handed to the loss in the autocast dtype
# (DCTAttentionLoss reduces them in float32 itself), no compile. Use as
# ``model = dict(teacher_fast={{_base_._fast_teacher}})`` (the underscore
# keeps it out of exported configs).
_fast_teacher = dict(
    inference_mode=True,
    channels_last=True,
    autocast_dtype='bfloat16',
    feature_dtype=None,
    compile=False)
