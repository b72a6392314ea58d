# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) as the authors run
# it: RepDistiller's at_loss on each of the four stages, summed, times
# ALPHA = 1000 (Config/Distillation/config_AT.yaml; Distillation.py sums
# the per-stage losses). MMRazor's ATLoss is that at_loss (same
# normalised mean_c F^2 maps, squared difference, mean) at equal map
# sizes, so each stage gets loss_weight 1000. Use as
# ``model = dict(distiller={{_base_.at_distiller}})``.
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
        f'loss_at_s{i}': dict(type='ATLoss', loss_weight=1000.0)
        for i in _stages
    },
    loss_forward_mappings={
        f'loss_at_s{i}': dict(
            s_feature=dict(recorder=f'layer{i}', from_student=True),
            t_feature=dict(recorder=f'layer{i}', from_student=False))
        for i in _stages
    },
)
