# Demo PKT arm (Passalis & Tefas 2018) as the authors run it
# (config_PKT.yaml): PKT x 30000 on the pooled embeddings; CE weight 1.
_base_ = ['./_base_/demo_distill.py', '../_base_/distill/pkt_embedding.py']

model = dict(distiller={{_base_.pkt_distiller}})
