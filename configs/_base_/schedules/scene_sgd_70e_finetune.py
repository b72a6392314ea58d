# The authors' schedule for teachers fine-tuned from ImageNet: lr 0.01
# (config_SGD.yaml: "LR: 0.01 # For Teachers pretrained from ImageNet").
_base_ = ['./scene_sgd_70e.py']

optim_wrapper = dict(optimizer=dict(lr=0.01))
