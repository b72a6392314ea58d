# AT + KD (the authors' Scripts/Run_TrainNew.sh: --Distillation AT DELTA=1
# BETA=0.1): AT x 1000 per stage plus KD with T = 4 (weight 1), CE weight
# 0.1. resnet50 -> mobilenet-v2.
_base_ = ['./at_resnet50_mobilenet-v2.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
