# CKD + KD (as the authors' AT + KD, Scripts/Run_TrainNew.sh: DELTA=1
# BETA=0.1): SemCKDLoss x 400 plus KD with T = 4 (weight 1), CE weight
# 0.1. resnet50 -> resnet18.
_base_ = ['./ckd_resnet50_resnet18.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
