# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) with MMRazor's
# ATLoss on the four ResNet stages. beta = 1000 over two, as in the
# authors' code (loss = beta / 2 * sum over stages).
_stages = (1, 2, 3, 4)

at_distiller = dict(
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
        f'loss_at_s{i}': dict(type='ATLoss', loss_weight=500.0)
        for i in _stages
    },
    loss_forward_mappings={
        f'loss_at_s{i}': dict(
            s_feature=dict(recorder=f'layer{i}', from_student=True),
            t_feature=dict(recorder=f'layer{i}', from_student=False))
        for i in _stages
    },
)
