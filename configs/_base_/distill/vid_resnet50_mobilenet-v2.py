# VID (the authors' config_VID.yaml): one VIDLoss per stage on
# features[1:-1], summed, ALPHA 1, CE weight 1. resnet50 -> mobilenet-v2.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r50_mbv2.py',
    './vid_mbv2_stages.py',
]

model = dict(distiller={{_base_.vid_distiller}})
