# CRD + KD: CRD x 0.8 plus KD with T = 4 (weight 1), CE weight 0.1. Their
# scripts have no CRD line; every '+ KD' line they have (DFT, AT) passes
# DELTA=1 BETA=0.1, as issue 20 asks. resnet50 -> resnet18.
_base_ = ['./crd_resnet50_resnet18.py', './hinton_kd.py']

model = {{_base_._plus_kd}}
