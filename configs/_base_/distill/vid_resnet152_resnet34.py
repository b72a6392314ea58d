# VID (the authors' config_VID.yaml): one VIDLoss per stage on
# features[1:-1], summed, ALPHA 1, CE weight 1. resnet152 -> resnet34.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r152_r34.py',
    './vid_resnet_stages.py',
]

model = dict(distiller={{_base_.vid_distiller}})
