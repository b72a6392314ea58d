# The flagship R50 -> R18 DCT config with the frozen teacher's fast
# forward switched on (FrozenTeacherDistill ``teacher_fast``): no autograd
# state, channels-last weights and input, bfloat16 autocast for the teacher
# only, its features handed to DCTAttentionLoss in bfloat16 (the loss
# reduces them in float32 itself). Measured on one H100 with the previous
# code revision (one loss module per stage), at 128 images per GPU: +24%
# images/s over the flagship, +31% with ``compile=True`` too; at 32 images
# per GPU the step was host-bound and gained nothing. Not yet measured with
# this revision (tools/analysis_tools/gpu_benchmark.py). On a CPU without
# bfloat16 units use only ``channels_last``. See docs/benchmarks.md.
_base_ = [
    './dct_kd_r50_r18_places365.py', './_base_/distill/fast_teacher.py'
]

model = dict(teacher_fast={{_base_._fast_teacher}})
