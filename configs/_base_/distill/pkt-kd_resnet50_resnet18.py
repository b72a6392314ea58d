# PKT + KD: the scripts' rule for a method plus Hinton's KD (Run_Train.sh
# and Run_TrainNew.sh comments: BETA=0.1, DELTA=1; no PKT/VID command is
# committed), as for AT + KD:
# PKT x 30000 on the embedding plus KD with T = 4 (weight 1), CE weight 0.1.
# resnet50 -> resnet18.
_base_ = ['./pkt_resnet50_resnet18.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
