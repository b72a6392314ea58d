# Demo VID + KD arm (the authors' "+ KD" rows): VID per stage, KD (T = 4)
# weight 1, CE 0.1.
_base_ = ['./vid_r18_synthetic.py', '../_base_/distill/hinton_kd.py']

model = {{_base_._plus_kd}}
