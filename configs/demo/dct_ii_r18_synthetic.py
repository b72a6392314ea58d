# Demo DCT-II arm: the DCT arm with the orthonormal 2-D DCT-II (what the
# paper's text describes) instead of the authors' code's transform (the
# real part of the 2-D DFT). Same weights as the DCT arm.
_base_ = ['./dct_r18_synthetic.py']

model = dict(distiller=dict(distill_losses=dict(loss_dct=dict(
    transform='dct'))))
