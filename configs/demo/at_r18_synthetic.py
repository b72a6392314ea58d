# Demo AT baseline: MMRazor's ATLoss (Zagoruyko & Komodakis 2017) on the
# outputs of the four ResNet stages, with the weight MMRazor's own AT
# configs use for ResNets.
_base_ = ['./_base_/demo_distill.py']

_stages = (1, 2, 3, 4)
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
            f'loss_at_s{i}': dict(type='ATLoss', loss_weight=250.0)
            for i in _stages
        },
        loss_forward_mappings={
            f'loss_at_s{i}': dict(
                s_feature=dict(recorder=f'layer{i}', from_student=True),
                t_feature=dict(recorder=f'layer{i}', from_student=False))
            for i in _stages
        }))
