# Demo AT + KD arm as the authors run it (Run_TrainNew.sh: --Distillation
# AT, DELTA=1, BETA=0.1): AT 1000 per stage, KD (T = 4) weight 1, CE 0.1.
_base_ = ['./at_r18_synthetic.py', '../_base_/distill/hinton_kd.py']

model = {{_base_._plus_kd}}
