# CRD (Tian et al., ICLR 2020) as the authors run it (config_CRD.yaml,
# Distillation.py 'crd'): ALPHA 0.8, K 16384 negatives, T 0.07, memory
# momentum 0.5, 128-d embedding, on the pooled embedding (their a4: the
# flattened average pool, MMPretrain's neck.gap) of student and teacher.
# embed_s/embed_t are MMRazor CRDConnectors in the distiller: trained with
# the student (in the optimizer, SGD with weight decay, as their
# student_trainable_list), saved in checkpoints, left out of exports.
# The data samples (sample_idx, contrast_sample_idxs from the
# AuthorsCRDDataset training wrapper) are the student's forward inputs.
# Leaf configs set sample_n (the memory bank: the training-set size, their
# len(trainDataset)) and wrap their training set. Use as
# ``model = dict(distiller={{_base_.crd_distiller}})`` (ResNet students,
# 512-d) or ``{{_base_.crd_mbv2_distiller}}`` (MobileNetV2, 1280-d).
crd_neg_num = 16384
_loss = dict(type='AuthorsCRDLoss', loss_weight=0.8, temperature=0.07,
             neg_num=crd_neg_num, momentum=0.5, dim_out=128, sample_n=None)
_embed_t = dict(type='CRDConnector', dim_in=2048, dim_out=128)

crd_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(
        pooled=dict(type='ModuleOutputs', source='neck.gap'),
        data_samples=dict(type='ModuleInputs', source='')),
    teacher_recorders=dict(
        pooled=dict(type='ModuleOutputs', source='neck.gap')),
    distill_losses=dict(loss_crd=_loss),
    connectors=dict(
        crd_embed_s=dict(type='CRDConnector', dim_in=512, dim_out=128),
        crd_embed_t=_embed_t),
    loss_forward_mappings=dict(
        loss_crd=dict(
            s_feats=dict(recorder='pooled', from_student=True,
                         connector='crd_embed_s'),
            t_feats=dict(recorder='pooled', from_student=False,
                         connector='crd_embed_t'),
            data_samples=dict(recorder='data_samples', from_student=True,
                              data_idx=1))),
)
crd_mbv2_distiller = dict(
    crd_distiller,
    connectors=dict(
        crd_embed_s=dict(type='CRDConnector', dim_in=1280, dim_out=128),
        crd_embed_t=_embed_t))
