# Demo AT arm (Zagoruyko & Komodakis 2017) as the authors run it
# (config_AT.yaml): MMRazor's ATLoss on the outputs of the four ResNet
# stages, weight 1000 per stage, summed; CE weight 1.
_base_ = ['./_base_/demo_distill.py', '../_base_/distill/at_resnet_stages.py']

model = dict(distiller={{_base_.at_distiller}})
