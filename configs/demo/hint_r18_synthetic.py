# Demo hint arm (FitNets-style, as configs/cifar10/_base_/hint_layer3.py):
# MMRazor's L2Loss (per-sample L2-normalised features, weight 10 as in
# MMRazor's FitNets config) between the student's layer3 output, mapped by
# a 1x1 conv + BN + ReLU connector, and the fixed teacher's layer3 output.
# The connector's channels follow the demo's quarter width (width 16:
# ResNet-18 layer3 has 4 * 16, ResNet-50 layer3 16 * 16 channels); at
# another width they must be changed with it.
_base_ = ['./_base_/demo_distill.py']

# MMRazor's L2Loss flattens the features with ``view``, which a
# channels-last map does not allow: this arm keeps the default layout.
default_hooks = dict(memory_format=dict(enable=False))

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            hint=dict(type='ModuleOutputs', source='backbone.layer3')),
        teacher_recorders=dict(
            hint=dict(type='ModuleOutputs', source='backbone.layer3')),
        connectors=dict(
            hint_student=dict(type='ConvModuleConnector',
                              in_channel=4 * _base_.width,
                              out_channel=16 * _base_.width,
                              norm_cfg=dict(type='BN'))),
        distill_losses=dict(loss_hint=dict(type='L2Loss', loss_weight=10.0)),
        loss_forward_mappings=dict(
            loss_hint=dict(
                s_feature=dict(recorder='hint', from_student=True,
                               connector='hint_student'),
                t_feature=dict(recorder='hint', from_student=False)))))
