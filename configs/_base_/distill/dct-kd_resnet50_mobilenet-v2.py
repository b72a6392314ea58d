# DCT + KD (the authors' Scripts/Run_Train.sh: DELTA=1 BETA=0.1): the DCT
# loss (ALPHA 1) plus KD with T = 4 (weight 1), CE weight 0.1. resnet50 -> mobilenet-v2.
# KD is added to the DCT distiller by merge (its own recorders, loss and
# mapping), whatever the DCT base names its parts.
_base_ = ['./dct_resnet50_mobilenet-v2.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
