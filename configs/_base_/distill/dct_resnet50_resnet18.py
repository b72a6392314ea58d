# DCT (the authors' DFTOurs, Config/Distillation/config_DFT.yaml): ALPHA 1,
# CE weight 1, the four stages summed per sample, teacher-correct gating
# (PRED_GUIDE), mean over the batch. resnet50 -> resnet18.
_base_ = [
    '../schedules/scene_sgd_70e.py',
    '../distill_runtime.py',
    './pair_r50_r18.py',
    './dct_resnet_stages.py',
]

model = dict(distiller={{_base_.dct_distiller}})
