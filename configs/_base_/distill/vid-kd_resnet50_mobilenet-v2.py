# VID + KD: the scripts' rule for a method plus Hinton's KD (Run_Train.sh
# and Run_TrainNew.sh comments: BETA=0.1, DELTA=1; no PKT/VID command is
# committed), as for AT + KD:
# VID per stage (ALPHA 1) plus KD with T = 4 (weight 1), CE weight 0.1.
# resnet50 -> mobilenet-v2.
_base_ = ['./vid_resnet50_mobilenet-v2.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
