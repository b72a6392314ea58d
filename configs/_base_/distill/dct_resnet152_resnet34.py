# DCT (the authors' DFTOurs, Config/Distillation/config_DFT.yaml): ALPHA 1,
# CE weight 1, the four stages summed per sample, teacher-correct gating
# (PRED_GUIDE), mean over the batch. resnet152 -> resnet34.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r152_r34.py',
    './dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
