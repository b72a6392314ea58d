# CKD (SemCKD; the authors' config_CKD.yaml): SemCKDLoss x 400 over the
# last three stages, CE weight 1. resnet50 -> resnet18.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r50_r18.py',
    './ckd_resnet_stages.py',
]

model = dict(distiller={{_base_.ckd_distiller}})
