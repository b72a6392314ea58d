# PKT (the authors' config_PKT.yaml): PKT x 30000 on the pooled
# embedding, CE weight 1. resnet50 -> mobilenet-v2.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r50_mbv2.py',
    './pkt_embedding.py',
]

model = dict(distiller={{_base_.pkt_distiller}})
