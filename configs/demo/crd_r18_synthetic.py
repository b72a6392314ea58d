# Demo CRD arm (Tian et al. 2020) as the authors run it (config_CRD.yaml):
# CRD x 0.8 on the pooled embeddings (128-d, K = 16384); CE weight 1. The
# embedding connectors' inputs are the demo's width-16 pooled features
# (student 8 x 16, teacher 32 x 16; tools/run_demo.py scales dim_in with
# --width, the 128-d embedding stays). sample_n, the memory bank (one row
# per training image): 720 = the default demo's 16 classes x 45 images
# (dctkd_mm.demo.settings.DEFAULTS), so that the config builds alone;
# tools/run_demo.py sets it from --num-classes x --train-per-class.
_base_ = ['./_base_/demo_crd.py']

model = dict(distiller=dict(
    connectors=dict(
        crd_embed_s=dict(dim_in=128),
        crd_embed_t=dict(dim_in=512)),
    distill_losses=dict(loss_crd=dict(sample_n=16 * 45))))
