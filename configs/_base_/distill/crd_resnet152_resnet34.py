# CRD (the authors' config_CRD.yaml, see crd_neck.py): ALPHA 0.8, CE
# weight 1. resnet152 -> resnet34.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r152_r34.py',
    './crd_neck.py',
]

model = dict(distiller={{_base_.crd_distiller}})
