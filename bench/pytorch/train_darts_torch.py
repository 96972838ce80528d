#!/usr/bin/env python3
"""bench/pytorch/train_darts_torch.py: PyTorch side of the training-throughput comparison
(bench/bench_train.c is freenas's side): the HNAS DARTS evaluation recipe (docs/METHOD.md §4.3)
-- DARTS model.py NetworkCIFAR with C = 16, 5 layers, no auxiliary head, drop-path on every
non-identity op -- trained by SGD (momentum 0.9, weight decay 3e-4, clip 5) on CIFAR-shaped
random inputs, float32, the same genotype (DARTS_V2) and batch as bench_train. The first step
is untimed; images/s over the others. The network is DARTS's code (operations.py, model.py)
written out here, so no checkout of it is needed.

PyTorch is not a freenas dependency: bench/run_bench_train.sh --torch makes a virtual
environment (python3 -m venv; pip install torch) when asked.
    python3 bench/pytorch/train_darts_torch.py [--batch 576] [--steps 3] [--threads 2]
Prints one JSON line: batch, steps, threads, images_per_s, seconds_per_step, torch version."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRIMS = {
    'avg_pool_3x3': lambda C, s: nn.AvgPool2d(3, stride=s, padding=1, count_include_pad=False),
    'max_pool_3x3': lambda C, s: nn.MaxPool2d(3, stride=s, padding=1),
    'skip_connect': lambda C, s: nn.Identity() if s == 1 else FactorizedReduce(C, C),
    'sep_conv_3x3': lambda C, s: SepConv(C, C, 3, s, 1),
    'sep_conv_5x5': lambda C, s: SepConv(C, C, 5, s, 2),
    'dil_conv_3x3': lambda C, s: DilConv(C, C, 3, s, 2, 2),
    'dil_conv_5x5': lambda C, s: DilConv(C, C, 5, s, 4, 2),
}


class ReLUConvBN(nn.Sequential):
    def __init__(self, ci, co, k, s, p):
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(ci, co, k, s, p, bias=False),
                         nn.BatchNorm2d(co))


class DilConv(nn.Sequential):
    def __init__(self, ci, co, k, s, p, d):
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(ci, ci, k, s, p, dilation=d, groups=ci, bias=False),
                         nn.Conv2d(ci, co, 1, bias=False), nn.BatchNorm2d(co))


class SepConv(nn.Sequential):
    def __init__(self, ci, co, k, s, p):
        super().__init__(DilConv(ci, ci, k, s, p, 1), DilConv(ci, co, k, 1, p, 1))


class FactorizedReduce(nn.Module):
    def __init__(self, ci, co):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.c1 = nn.Conv2d(ci, co // 2, 1, 2, bias=False)
        self.c2 = nn.Conv2d(ci, co // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(co)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.c1(x), self.c2(x[:, :, 1:, 1:])], dim=1))


def drop_path(x, p):
    if p > 0.:
        mask = torch.empty(x.size(0), 1, 1, 1, device=x.device).bernoulli_(1 - p)
        x = x / (1 - p) * mask
    return x


class Cell(nn.Module):
    def __init__(self, ops, concat, Cpp, Cp, C, reduction, reduction_prev):
        super().__init__()
        self.pre0 = FactorizedReduce(Cpp, C) if reduction_prev else ReLUConvBN(Cpp, C, 1, 1, 0)
        self.pre1 = ReLUConvBN(Cp, C, 1, 1, 0)
        self.ops = nn.ModuleList()
        self.idx = []
        for name, j in ops:
            s = 2 if reduction and j < 2 else 1
            self.ops.append(PRIMS[name](C, s))
            self.idx.append(j)
        self.concat = concat
        self.reduction = reduction

    def forward(self, s0, s1, p):
        st = [self.pre0(s0), self.pre1(s1)]
        for i in range(len(self.ops) // 2):
            h = []
            for k in (2 * i, 2 * i + 1):
                y = self.ops[k](st[self.idx[k]])
                if self.training and p > 0 and not isinstance(self.ops[k], nn.Identity):
                    y = drop_path(y, p)
                h.append(y)
            st.append(h[0] + h[1])
        return torch.cat([st[i] for i in self.concat], dim=1)


class NetworkCIFAR(nn.Module):
    def __init__(self, C, classes, layers, geno):
        super().__init__()
        self.drop_path_prob = 0.
        Cc = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, Cc, 3, padding=1, bias=False), nn.BatchNorm2d(Cc))
        Cpp, Cp, Cc = Cc, Cc, C
        self.cells = nn.ModuleList()
        rp = False
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                Cc *= 2
            ops, cat = (geno['reduce'], geno['reduce_concat']) if red else (geno['normal'],
                                                                             geno['normal_concat'])
            cell = Cell(ops, cat, Cpp, Cp, Cc, red, rp)
            rp = red
            self.cells.append(cell)
            Cpp, Cp = Cp, len(cat) * Cc
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(Cp, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for c in self.cells:
            s0, s1 = s1, c(s0, s1, self.drop_path_prob)
        return self.classifier(self.gap(s1).flatten(1))


DARTS_V2 = dict(
    normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1),
            ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1),
            ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)],
    reduce_concat=[2, 3, 4, 5])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=576)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = NetworkCIFAR(16, 10, 5, DARTS_V2)
    net.train()
    net.drop_path_prob = 0.2 * 5 / 10  # mid-run drop probability, as bench_train
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))
    times = []
    for s in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    t = sum(times[1:]) / max(1, len(times) - 1)
    print(json.dumps({'impl': 'pytorch', 'torch': torch.__version__, 'batch': a.batch,
                      'steps': a.steps, 'threads': a.threads, 'seconds_per_step': t,
                      'images_per_s': a.batch / t,
                      'params': sum(p.numel() for p in net.parameters())}))


if __name__ == '__main__':
    main()
