# Demo AT baseline: MMRazor's ATLoss (Zagoruyko & Komodakis 2017) on the
# outputs of the four ResNet stages.
_base_ = ['./_base_/demo_distill.py']

_stages = (1, 2, 3, 4)
# MMRazor's ResNet AT configs use 250 at 224 px. ATLoss averages over the
# H*W positions of unit-norm maps, so at 64 px (each map 12.25x smaller)
# the same loss is 12.25x larger; rescale to keep AT's pull on the student
# what it is at 224 px: 250 * (64 / 224)**2 ~= 20.
_loss_weight = 250.0 * (64 / 224)**2
model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders={
            f'layer{i}': dict(type='ModuleOutputs',
                              source=f'backbone.layer{i}')
            for i in _stages
        },
        teacher_recorders={
            f'layer{i}': dict(type='ModuleOutputs',
                              source=f'backbone.layer{i}')
            for i in _stages
        },
        distill_losses={
            f'loss_at_s{i}': dict(type='ATLoss', loss_weight=_loss_weight)
            for i in _stages
        },
        loss_forward_mappings={
            f'loss_at_s{i}': dict(
                s_feature=dict(recorder=f'layer{i}', from_student=True),
                t_feature=dict(recorder=f'layer{i}', from_student=False))
            for i in _stages
        }))
