# Demo DCT arm (dct_r18_synthetic.py) with the frozen teacher's fast
# forward, as configs/dct_kd_r50_r18_places365_fast_teacher.py sets it:
# no autograd state, channels-last, bfloat16 autocast for the teacher only.
# It measures whether the fast path changes the student's accuracy
# (`--methods dct,dct+fast-teacher`); its speed is a GPU question
# (docs/benchmarks.md).
_base_ = ['./dct_r18_synthetic.py', '../_base_/distill/fast_teacher.py']

model = dict(teacher_fast={{_base_._fast_teacher}})
