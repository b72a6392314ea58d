# The paper's schedule for fine-tuning ImageNet teachers: lr 0.01.
_base_ = ['./scene_sgd_70e.py']

optim_wrapper = dict(optimizer=dict(lr=0.01))
