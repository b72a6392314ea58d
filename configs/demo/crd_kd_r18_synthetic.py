# Demo CRD + KD arm (the authors' "+ KD" rows): CRD x 0.8, KD (T = 4)
# weight 1, CE 0.1.
_base_ = ['./crd_r18_synthetic.py', '../_base_/distill/hinton_kd.py']

model = {{_base_._plus_kd}}
