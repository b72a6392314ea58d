# AT (the authors' config_AT.yaml): at_loss x 1000 per stage, summed over
# the four stages, CE weight 1. resnet50 -> resnet18.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r50_r18.py',
    './at_resnet_stages.py',
]

model = dict(distiller={{_base_.at_distiller}})
