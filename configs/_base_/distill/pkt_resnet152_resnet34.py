# PKT (the authors' config_PKT.yaml): PKT x 30000 on the pooled
# embedding, CE weight 1. resnet152 -> resnet34.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r152_r34.py',
    './pkt_embedding.py',
]

model = dict(distiller={{_base_.pkt_distiller}})
