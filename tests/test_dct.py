import numpy as np
import pytest
import scipy.fft
import torch

from dctkd_mm.models.losses.dct import dct_2d, dct_matrix, idct_2d


@pytest.mark.parametrize('shape', [(7, 7), (56, 56), (5, 3), (1, 9), (1, 1),
                                   (2, 3, 12, 20)])
def test_dct_2d_matches_scipy_ortho(shape):
    x = torch.randn(*shape, dtype=torch.float64)
    expected = scipy.fft.dctn(x.numpy(), axes=(-2, -1), norm='ortho')
    np.testing.assert_allclose(dct_2d(x).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize('shape', [(4, 8, 8), (3, 6, 10)])
def test_idct_inverts_dct(shape):
    x = torch.randn(*shape, dtype=torch.float64)
    torch.testing.assert_close(idct_2d(dct_2d(x)), x)
    torch.testing.assert_close(dct_2d(idct_2d(x)), x)


def test_dct_is_orthonormal_and_energy_preserving():
    basis = dct_matrix(11, dtype=torch.float64)
    torch.testing.assert_close(basis @ basis.T, torch.eye(11,
                                                         dtype=torch.float64))
    x = torch.randn(2, 9, 13, dtype=torch.float64)
    torch.testing.assert_close(dct_2d(x).pow(2).sum(), x.pow(2).sum())


def test_dct_gradient_matches_finite_differences():
    x = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(dct_2d, (x, ))


def test_basis_is_cached_per_dtype_and_device():
    assert dct_matrix(6) is dct_matrix(6)
    assert dct_matrix(6, dtype=torch.float64) is not dct_matrix(6)
    assert dct_matrix(6, dtype=torch.float16).dtype == torch.float16
    x = torch.randn(3, 6, 6, dtype=torch.float16)
    assert dct_2d(x).dtype == torch.float16


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match=r'\(\.\.\., H, W\).*\(5,\)'):
        dct_2d(torch.randn(5))
    with pytest.raises(TypeError, match='floating point.*torch.int64'):
        dct_2d(torch.ones(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='n >= 1'):
        dct_matrix(0)


def test_the_loss_uses_this_dct_and_the_old_paths_name_it():
    """One DCT implementation (issue 19): the loss's 'dct' transform is
    dct_2d itself, and the earlier import paths give the same functions."""
    import dctkd_mm.models.utils as old_utils
    import dctkd_mm.ops as old_ops
    from dctkd_mm.models.losses.dct import (TRANSFORMS, attention_map,
                                            labels_from)
    assert TRANSFORMS['dct'] is dct_2d
    assert (old_ops.dct_2d, old_ops.idct_2d,
            old_ops.dct_matrix) == (dct_2d, idct_2d, dct_matrix)
    assert old_utils.attention_map is attention_map
    assert old_utils.labels_from is labels_from
