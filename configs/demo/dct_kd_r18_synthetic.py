# Demo DCT + KD arm as the authors run it (Run_Train.sh: DELTA=1,
# BETA=0.1): DCT weight 1, KD (T = 4) weight 1, CE 0.1.
_base_ = ['./dct_r18_synthetic.py', '../_base_/distill/hinton_kd.py']

model = {{_base_._plus_kd}}
