# CKD (SemCKD) on the demo's networks (ckd_r18_synthetic.py sets the
# channels of its quarter-width stages). SemCKD's attention MLPs are
# sized by the batch, so the short last batch is dropped, as the zoo's
# leaf configs do (the authors skip it); tools/run_demo.py sets the loss's
# batch_size to the demo's --batch-size.
_base_ = ['./demo_distill.py', '../../_base_/distill/ckd_resnet_stages.py']

model = dict(distiller={{_base_.ckd_distiller}})
train_dataloader = dict(drop_last=True)
