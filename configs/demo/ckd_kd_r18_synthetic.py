# Demo CKD + KD arm (the authors' "+ KD" rows): SemCKDLoss x 400, KD
# (T = 4) weight 1, CE 0.1.
_base_ = ['./ckd_r18_synthetic.py', '../_base_/distill/hinton_kd.py']

model = {{_base_._plus_kd}}
