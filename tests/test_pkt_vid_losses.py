"""PKTLoss and VIDLoss, and the zoo's PKT / VID configs, against the
authors' code (issue 20).

The authors' ``Distillation Zoo/PKT.py`` and ``VID.py`` (RepDistiller's),
the branches of ``Distillation.py`` ``KnowledgeDistillation`` that apply
them and ``trainCNNs.py``'s ``BETA * CE + ALPHA * distill + DELTA * KD``
are re-implemented below, on the CPU (theirs call ``.cuda()``), from their
operations. For every zoo (method, pair), one ``mode='loss'`` step of the
built MIT67 config is compared with them on the same features, logits and
VID parameters (their VID module gets our initial weights), term by term,
in total, and in the gradients of every trainable parameter.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmengine.config import Config
from mmengine.registry import DefaultScope

import dctkd_mm  # noqa: F401
from dctkd_mm.models.losses import PKTLoss, VIDLoss
from utils import REPO_ROOT

PAIRS = ('resnet50_resnet18', 'resnet152_resnet34', 'resnet50_mobilenet-v2')

# (ALPHA, BETA, DELTA) of trainCNNs.py for each zoo method.
WEIGHTS = {'pkt': (30000.0, 1.0, 0.0), 'pkt-kd': (30000.0, 0.1, 1.0),
           'vid': (1.0, 1.0, 0.0), 'vid-kd': (1.0, 0.1, 1.0)}
# Their (a0, a1, a2, a3) per network (Libs/resnet.py, Libs/mobilenetv2.py:
# features[:4], [4:7], [7:14], [14:]); a4 is the pooled a3.
STAGES = {
    'resnet': ('backbone.layer1', 'backbone.layer2', 'backbone.layer3',
               'backbone.layer4'),
    'mobilenet-v2': ('backbone.layer2', 'backbone.layer3',
                     'backbone.layer5', 'backbone.conv2'),
}
BATCH, SIZE, T = 4, 64, 4.0


def built(method, pair):
    """The model of the zoo's MIT67 config, random teacher."""
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/distill/{method}/{method}_'
                          f'{pair}_1xb128-70e_mit67.py')
    cfg.model.teacher_ckpt = None  # not here; the formulas hold for any
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


# --- the authors' code, re-implemented --------------------------------------


def authors_pkt(output_net, target_net, eps=0.0000001):
    """PKT.cosine_similarity_loss."""
    output_net = output_net / (
        torch.sqrt(torch.sum(output_net**2, dim=1, keepdim=True)) + eps)
    output_net[output_net != output_net] = 0  # their in-place NaN zeroing
    target_net = target_net / (
        torch.sqrt(torch.sum(target_net**2, dim=1, keepdim=True)) + eps)
    target_net[target_net != target_net] = 0
    model_similarity = (torch.mm(output_net, output_net.t()) + 1.0) / 2.0
    target_similarity = (torch.mm(target_net, target_net.t()) + 1.0) / 2.0
    model_similarity = model_similarity / model_similarity.sum(1, True)
    target_similarity = target_similarity / target_similarity.sum(1, True)
    # Averaged over all B x B entries: the reason for ALPHA = 30000.
    return torch.mean(target_similarity * torch.log(
        (target_similarity + eps) / (model_similarity + eps)))


class AuthorsVID(nn.Module):
    """VIDLoss(num_input_channels, num_mid_channel, num_target_channels)."""

    def __init__(self, s_ch, mid_ch, t_ch, init_pred_var=5.0, eps=1e-5):
        super().__init__()
        self.regressor = nn.Sequential(
            nn.Conv2d(s_ch, mid_ch, 1, bias=False), nn.ReLU(),
            nn.Conv2d(mid_ch, mid_ch, 1, bias=False), nn.ReLU(),
            nn.Conv2d(mid_ch, t_ch, 1, bias=False))
        self.log_scale = nn.Parameter(
            np.log(np.exp(init_pred_var - eps) - 1.0) * torch.ones(t_ch))
        self.eps = eps

    def forward(self, input, target):
        s_h, t_h = input.shape[2], target.shape[2]
        # Heights only, pooled to squares: their quirk (square maps here).
        if s_h > t_h:
            input = F.adaptive_avg_pool2d(input, (t_h, t_h))
        elif s_h < t_h:
            target = F.adaptive_avg_pool2d(target, (s_h, s_h))
        pred_mean = self.regressor(input)
        pred_var = torch.log(1.0 + torch.exp(self.log_scale)) + self.eps
        pred_var = pred_var.view(1, -1, 1, 1)
        return torch.mean(0.5 * ((pred_mean - target)**2 / pred_var +
                                 torch.log(pred_var)))


def authors_kd(s_logits, t_logits, temperature=T):
    """RepDistiller DistillKL."""
    p_s = F.log_softmax(s_logits / temperature, dim=1)
    p_t = F.softmax(t_logits / temperature, dim=1)
    return (F.kl_div(p_s, p_t, reduction='sum') * temperature**2 /
            s_logits.shape[0])


def authors_distillation(method, loss_function, feats_s, feats_t):
    """KnowledgeDistillation's 'pkt' and 'vid' branches, the VID terms
    kept apart (they are summed there)."""
    if method.startswith('pkt'):
        return [loss_function(feats_s[-1], feats_t[-1])]
    return [c(f_s, f_t) for f_s, f_t, c in
            zip(feats_s[1:-1], feats_t[1:-1], loss_function)]


# --- the zoo against them ---------------------------------------------------


def _capture(model, names, store):
    modules = dict(model.named_modules())
    return [modules[n].register_forward_hook(
        lambda m, i, o, n=n: store.__setitem__(n, o)) for n in names]


@pytest.mark.parametrize('pair', PAIRS)
@pytest.mark.parametrize('method', sorted(WEIGHTS))
def test_zoo_terms_and_gradients_equal_the_authors(method, pair):
    from mmpretrain.structures import DataSample
    alpha, beta, delta = WEIGHTS[method]
    model = built(method, pair)
    model.train()
    kind = 'mobilenet-v2' if 'mobilenet' in pair else 'resnet'
    gen = torch.Generator().manual_seed(1)
    inputs = torch.rand(BATCH, 3, SIZE, SIZE, generator=gen) * 255
    labels = torch.randint(0, model.student.head.num_classes, (BATCH, ),
                           generator=gen)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    s_out, t_out = {}, {}
    s_names = STAGES[kind] + ('neck', 'head.fc')
    t_names = STAGES['resnet'] + ('neck', 'head.fc')
    hooks = (_capture(model.student, s_names, s_out) +
             _capture(model.teacher, t_names, t_out))
    torch.manual_seed(2)  # MobileNetV2's dropout
    losses = model.loss(model.data_preprocessor(
        {'inputs': inputs, 'data_samples': samples}, True)['inputs'],
        samples)
    for hook in hooks:
        hook.remove()
    total, _ = model.parse_losses(losses)

    # Their (a0, ..., a4); a4 = flatten(avgpool(a3)) is the neck's output.
    feats_s = [s_out[n] for n in STAGES[kind]] + [s_out['neck'][0]]
    feats_t = [t_out[n] for n in STAGES['resnet']] + [t_out['neck'][0]]
    torch.testing.assert_close(feats_s[4], feats_s[3].mean((2, 3)))
    torch.testing.assert_close(feats_t[4], feats_t[3].mean((2, 3)))
    assert not any(f.requires_grad for f in feats_t)  # their no_grad
    s_logits, t_logits = s_out['head.fc'], t_out['head.fc']

    ours = [p for p in model.distiller.parameters()]
    if method.startswith('vid'):
        loss_function = nn.ModuleList([
            AuthorsVID(s.shape[1], t.shape[1], t.shape[1])
            for s, t in zip(feats_s[1:-1], feats_t[1:-1])])
        for stage, theirs in zip((2, 3, 4), loss_function):
            mine = model.distiller.distill_losses[f'loss_vid_s{stage}']
            # Their initial variance, computed their way, before copying.
            torch.testing.assert_close(theirs.log_scale, mine.log_scale)
            theirs.load_state_dict(mine.state_dict())
        theirs_params = list(loss_function.parameters())
    else:
        loss_function, theirs_params = authors_pkt, []
    terms = authors_distillation(method, loss_function, feats_s, feats_t)

    expected = {'student.loss': beta * F.cross_entropy(s_logits, labels)}
    if method.startswith('pkt'):
        expected['distill.loss_pkt'] = alpha * terms[0]
    else:
        expected.update({f'distill.loss_vid_s{s}': alpha * term
                         for s, term in zip((2, 3, 4), terms)})
    if delta:
        expected['distill.loss_kd'] = delta * authors_kd(s_logits, t_logits)
    assert {k for k in losses if 'loss' in k} == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(losses[key], value, rtol=1e-5, atol=0,
                                   msg=key)
    authors_total = (expected['student.loss'] + alpha * sum(terms) +
                     expected.get('distill.loss_kd', 0.))
    torch.testing.assert_close(total, authors_total, rtol=1e-5, atol=0)

    student = [p for p in model.student.parameters() if p.requires_grad]
    grads = torch.autograd.grad(total, student + ours, retain_graph=True,
                                allow_unused=True)
    theirs = torch.autograd.grad(authors_total, student + theirs_params,
                                 allow_unused=True)
    assert len(grads) == len(theirs)
    for i, (g, h) in enumerate(zip(grads, theirs)):
        assert (g is None) == (h is None), i
        if g is not None:
            scale = h.abs().max().clamp_min(1e-12)
            assert torch.allclose(g, h, rtol=1e-4, atol=1e-5 * scale), i


# --- the losses alone -------------------------------------------------------


def test_pkt_equals_the_authors_with_their_nan_quirk():
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(6, 16, generator=gen)
    s[2, 3] = float('nan')  # a diverged sample: zeroed, not propagated
    t = torch.randn(6, 32, generator=gen)
    s_ours, s_theirs = s.clone().requires_grad_(), s.clone().requires_grad_()
    ours = PKTLoss(loss_weight=30000.)(s_ours, t)
    theirs = 30000. * authors_pkt(s_theirs, t.clone())
    assert math.isfinite(float(ours.detach()))
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    # The zeroing keeps the loss finite, not the gradient: NaN reaches the
    # diverged sample's input in both.
    torch.testing.assert_close(s_ours.grad, s_theirs.grad, equal_nan=True)
    assert torch.isnan(s_ours.grad[2]).all()
    assert torch.isfinite(s_ours.grad[[0, 1, 3, 4, 5]]).all()


def test_vid_pools_the_larger_map_as_the_authors_do():
    torch.manual_seed(0)
    mine, theirs = VIDLoss(8, 16), AuthorsVID(8, 16, 16)
    theirs.load_state_dict(mine.state_dict())
    for s_size, t_size in ((8, 4), (4, 8)):
        s = torch.randn(2, 8, s_size, s_size)
        t = torch.randn(2, 16, t_size, t_size)
        torch.testing.assert_close(mine(s, t), theirs(s, t))


def test_losses_stay_float32_under_autocast():
    torch.manual_seed(0)
    s, t = torch.randn(8, 16) * 50, torch.randn(8, 32)
    vid = VIDLoss(4, 6)
    s_map, t_map = torch.randn(2, 4, 3, 3) * 30, torch.randn(2, 6, 3, 3) * 30
    expected = PKTLoss()(s, t), vid(s_map, t_map)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = PKTLoss()(s.bfloat16(), t.bfloat16()), vid(s_map, t_map)
    for value, reference in zip(got, expected):
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, reference, rtol=0.05, atol=0)


@pytest.mark.parametrize('s,t,match', [
    (torch.zeros(2, 8, 1, 1), torch.zeros(2, 4), r'PKTLoss: s_feature'),
    (torch.zeros(2, 8), (torch.zeros(2, 4), ), r'PKTLoss: t_feature'),
    (torch.zeros(2, 8), torch.zeros(3, 4), 'PKTLoss: .*batch sizes'),
])
def test_pkt_bad_input_names_the_argument(s, t, match):
    with pytest.raises(ValueError, match=match):
        PKTLoss()(s, t)


def test_vid_bad_input_names_the_setting():
    loss = VIDLoss(8, 16)
    with pytest.raises(ValueError, match='student_channels=8'):
        loss(torch.zeros(2, 7, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match='teacher_channels=16'):
        loss(torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4))
    with pytest.raises(ValueError, match='batch sizes'):
        loss(torch.zeros(2, 8, 4, 4), torch.zeros(3, 16, 4, 4))
    with pytest.raises(ValueError, match='VIDLoss: teacher_channels'):
        VIDLoss(8, 0)
    with pytest.raises(ValueError, match='init_pred_var'):
        VIDLoss(8, 16, init_pred_var=0.)
