# PKT (Passalis & Tefas, ECCV 2018) as the authors run it: their PKT.py on
# the student's and teacher's features[-1], the flattened average-pooled
# embedding (a4 in Libs/resnet.py and Libs/mobilenetv2.py), which is the
# output of MMPretrain's GlobalAveragePooling neck (a one-tuple, hence
# data_idx=0), before MobileNetV2's dropout. ALPHA = 30000
# (Config/Distillation/config_PKT.yaml). The same for every pair. Use as
# ``model = dict(distiller={{_base_.pkt_distiller}})``.
pkt_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(
        embedding=dict(type='ModuleOutputs', source='neck')),
    teacher_recorders=dict(
        embedding=dict(type='ModuleOutputs', source='neck')),
    distill_losses=dict(loss_pkt=dict(type='PKTLoss', loss_weight=30000.0)),
    loss_forward_mappings=dict(
        loss_pkt=dict(
            s_feature=dict(recorder='embedding', from_student=True,
                           data_idx=0),
            t_feature=dict(recorder='embedding', from_student=False,
                           data_idx=0))),
)
