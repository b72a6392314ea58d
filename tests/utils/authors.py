"""The authors' SemCKD and CRD, re-implemented on the CPU in their
structure for the parity tests (tests/test_zoo_ckd.py, test_zoo_crd.py)."""
import numpy as np
import torch


# --- the authors' SemCKD (tests/test_zoo_ckd.py) -----------------------------
# Their ``Distillation Zoo/SemCKD.py`` and ``selfAT.py`` (from SemCKD's own
# repository), as ``Distillation.py`` applies them, re-implemented on the CPU
# in their structure and parameter names (their code calls ``.cuda()``).

_F = torch.nn.functional


class AuthorsMLPEmbed(torch.nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear1 = torch.nn.Linear(dim_in, 2 * dim_out)
        self.linear2 = torch.nn.Linear(2 * dim_out, dim_out)

    def forward(self, x):
        x = self.linear2(_F.relu(self.linear1(x.view(x.shape[0], -1))))
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))


class AuthorsAAEmbed(torch.nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        mid = 2 * c_out
        nn = torch.nn
        self.regressor = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU(), nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(),
            nn.Conv2d(mid, c_out, 1, bias=False))

    def forward(self, x):
        return self.regressor(x)


class AuthorsSelfA(torch.nn.Module):
    def __init__(self, s_len, t_len, input_channel, s_n, t_n, factor=4):
        super().__init__()
        for i in range(t_len):
            setattr(self, f'key_weight{i}',
                    AuthorsMLPEmbed(input_channel, input_channel // factor))
        for i in range(s_len):
            setattr(self, f'query_weight{i}',
                    AuthorsMLPEmbed(input_channel, input_channel // factor))
        for i in range(s_len):
            for j in range(t_len):
                setattr(self, f'regressor{i}{j}',
                        AuthorsAAEmbed(s_n[i], t_n[j]))

    def forward(self, feat_s, feat_t):
        bsz = feat_s[0].shape[0]
        sim_t = [f.reshape(bsz, -1) @ f.reshape(bsz, -1).t() for f in feat_t]
        sim_s = [f.reshape(bsz, -1) @ f.reshape(bsz, -1).t() for f in feat_s]
        key = torch.cat([getattr(self, f'key_weight{i}')(s)[:, :, None]
                         for i, s in enumerate(sim_t)], 2)
        query = torch.cat([getattr(self, f'query_weight{i}')(s)[:, None, :]
                           for i, s in enumerate(sim_s)], 1)
        attention = _F.softmax(torch.bmm(query, key), dim=-1)
        values, targets = [], []
        for i in range(len(sim_s)):
            values.append([])
            targets.append([])
            for j in range(len(sim_t)):
                s_h, t_h = feat_s[i].shape[2], feat_t[j].shape[2]
                reg = getattr(self, f'regressor{i}{j}')
                if s_h > t_h:
                    values[i].append(
                        reg(_F.adaptive_avg_pool2d(feat_s[i], (t_h, t_h))))
                    targets[i].append(feat_t[j])
                else:
                    values[i].append(reg(feat_s[i]))
                    targets[i].append(
                        _F.adaptive_avg_pool2d(feat_t[j], (s_h, s_h)))
        return values, targets, attention


class AuthorsSemCKD(torch.nn.Module):
    def __init__(self, bs, s_n, t_n):
        super().__init__()
        self.self_attention = AuthorsSelfA(len(s_n), len(t_n), bs, s_n, t_n)

    def forward(self, s_value, f_target, weight):
        bsz, num_stu, num_tea = weight.shape
        ind_loss = torch.zeros(bsz, num_stu, num_tea, dtype=weight.dtype)
        for i in range(num_stu):
            for j in range(num_tea):
                ind_loss[:, i, j] = _F.mse_loss(
                    s_value[i][j], f_target[i][j],
                    reduction='none').reshape(bsz, -1).mean(-1)
        return (weight * ind_loss).sum() / (1.0 * bsz * num_stu)


# --- the authors' CRD (issue 20), re-implemented on the CPU for
# tests/test_zoo_crd.py ------------------------------------------------------


_CRD_EPS = 1e-7  # criterion.py's eps


class AuthorsCRD:
    """criterion.py CRDLoss (Embed, ContrastLoss) + memory.py
    ContrastMemory, with indices given (their training loop always passes
    the dataset's ``Idx`` and ``Sample Idx``)."""

    def __init__(self, embed_s, embed_t, memory_v1, memory_v2, n_data):
        self.w_s, self.w_t = list(embed_s), list(embed_t)  # weight, bias
        self.v1, self.v2 = memory_v1.clone(), memory_v2.clone()
        self.n_data, self.z_v1, self.z_v2 = n_data, -1.0, -1.0

    @staticmethod
    def embed(x, w, b):
        x = torch.nn.functional.linear(x.view(x.shape[0], -1), w, b)
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))

    def contrast_loss(self, x):
        m, pn = x.size(1) - 1, 1 / float(self.n_data)
        log_d1 = torch.div(x[:, 0], x[:, 0] + m * pn + _CRD_EPS).log()
        p_neg = x[:, 1:]
        log_d0 = torch.div(torch.full_like(p_neg, m * pn),
                           p_neg + m * pn + _CRD_EPS).log()
        return -(log_d1.sum(0) + log_d0.reshape(-1, 1).sum(0)) / x.shape[0]

    def __call__(self, f_s, f_t, idx, contrast_idx, t=0.07, momentum=0.5):
        v1 = self.embed(f_s, *self.w_s)
        v2 = self.embed(f_t, *self.w_t)
        bsz, dim = v1.shape
        w1 = self.v1[contrast_idx.view(-1)].view(bsz, -1, dim)
        w2 = self.v2[contrast_idx.view(-1)].view(bsz, -1, dim)
        out_v2 = torch.exp(torch.bmm(w1, v2.view(bsz, dim, 1)) / t)
        out_v1 = torch.exp(torch.bmm(w2, v1.view(bsz, dim, 1)) / t)
        if self.z_v1 < 0:  # fixed once, by the first batch
            self.z_v1 = (out_v1.mean() * self.n_data).item()
        if self.z_v2 < 0:
            self.z_v2 = (out_v2.mean() * self.n_data).item()
        out_v1, out_v2 = out_v1 / self.z_v1, out_v2 / self.z_v2
        with torch.no_grad():
            for bank, v in ((self.v1, v1), (self.v2, v2)):
                pos = bank[idx] * momentum + v * (1 - momentum)
                bank[idx] = pos.div(pos.pow(2).sum(1, keepdim=True).sqrt())
        return self.contrast_loss(out_v1) + self.contrast_loss(out_v2)


def authors_contrast_indices(labels, num_classes, k, rng):
    """SceneRecognitionDatasetCRD: class lists from ``range(nclasses)``
    (the quirk: the first nclasses samples only), then per sample itself
    and k negatives from ``np.random.choice``."""
    pos = [[] for _ in range(num_classes)]
    for i in range(num_classes):
        pos[labels[i]].append(i)
    neg = [[j for c in range(num_classes) if c != i for j in pos[c]]
           for i in range(num_classes)]
    out = []
    for idx, label in enumerate(labels):
        draw = rng.choice(np.asarray(neg[label]), k,
                          replace=k > len(neg[label]))
        out.append(np.hstack(([idx], draw)))
    return np.stack(out)


def add_crd_indices(samples, cfg) -> None:
    """What AuthorsCRDDataset gives each packed sample: its index in the
    training set (PackInputs' ``sample_idx``) and ``neg_num + 1`` contrast
    indices, the sample first, then negatives from the other samples."""
    sample_n = cfg.model.distiller.distill_losses.loss_crd.sample_n
    neg_num = cfg.train_dataloader.dataset.neg_num
    for i, sample in enumerate(samples):
        others = torch.tensor([j for j in range(sample_n) if j != i])
        negatives = others[torch.randint(len(others), (neg_num, ))]
        sample.set_metainfo(dict(sample_idx=i))
        sample.set_field(torch.cat([torch.tensor([i]), negatives]),
                         'contrast_sample_idxs')
