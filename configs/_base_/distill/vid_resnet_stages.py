# VID (Ahn et al., CVPR 2019) as the authors run it: one VIDLoss(s, t, t)
# per stage on their features[1:-1] (Distillation.py), i.e. the outputs
# of layer2, layer3 and layer4 (a1..a3 in Libs/resnet.py), summed, ALPHA = 1
# (Config/Distillation/config_VID.yaml). Each loss holds its regressor and
# log-variance, trained with the student (trainCNNs.py puts them in the
# optimizer). ResNet-18 and ResNet-34 have the same stage widths, and so
# do ResNet-50 and ResNet-152, so both ResNet pairs use this file. Use as
# ``model = dict(distiller={{_base_.vid_distiller}})``.
_stages = (2, 3, 4)
_student_channels = dict(zip(_stages, (128, 256, 512)))
_teacher_channels = dict(zip(_stages, (512, 1024, 2048)))

vid_distiller = dict(
    type='ConfigurableDistiller',
    student_recorders={
        f'layer{i}': dict(type='ModuleOutputs', source=f'backbone.layer{i}')
        for i in _stages
    },
    teacher_recorders={
        f'layer{i}': dict(type='ModuleOutputs', source=f'backbone.layer{i}')
        for i in _stages
    },
    distill_losses={
        f'loss_vid_s{i}': dict(type='VIDLoss',
                               student_channels=_student_channels[i],
                               teacher_channels=_teacher_channels[i],
                               loss_weight=1.0)
        for i in _stages
    },
    loss_forward_mappings={
        f'loss_vid_s{i}': dict(
            s_feature=dict(recorder=f'layer{i}', from_student=True),
            t_feature=dict(recorder=f'layer{i}', from_student=False))
        for i in _stages
    },
)
