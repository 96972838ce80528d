#!/usr/bin/env python3
"""bench/pytorch/search_torch.py: PyTorch side of the FreeDARTS search comparison
(bench/bench_search.c is freenas's side): the same supernets (docs/METHOD.md §1 NB201, §2 DARTS,
as search/space_nb201.c and search/space_darts.c build them), the same saliencies on alpha
(§3.11, as search/search.c and metrics/ run them), batch sizes, dtypes and thread count, in one
process.

The networks are FreeDARTS's PyTorch code (AutoDL's NB201 search cell, DARTS model_search.py /
FD's model_search_imagenet.py) written out here: one module per edge and operation, mixed op
sum_o alpha_o * op_o(x) with raw alpha (no softmax), `none` = x * 0 as in FD. Unlike FD's
notebooks, which call loss.backward() and so fill every weight gradient, only alpha requires a
gradient here (weights are constants), so PyTorch computes d alpha alone, as freenas does.

One search, timed as freenas's search_s (search_run: data, build, init, score, prune):
  data   SNIP: `batch` images sampled from the same file freenas reads (../shared/data), NB201
         augmentation (flip, random crop with zero padding) and normalisation;
  build  the supernet's modules (PyTorch's default init, U(+-1/sqrt(fan_in)), as freenas's),
         in float64 for SynFlow, float32 for SNIP (metrics/metric.c metric_dtype);
  init   alpha = scale * randn (1e-3; 5e-4 at 224x224), the input;
  score  SynFlow: |every state_dict entry| (and |alpha|: NB201 as FD, DARTS in freenas's
         default path form, where BN is also removed: search/search.c, docs/METHOD.md §3.11),
         one all-ones image, R = sum of logits, S = |alpha * dR/dalpha|;
         SNIP: |params| on DARTS (FD's DARTS notebook), signed on NB201; BN in train mode;
         L = mean cross-entropy, S = |alpha * dL/dalpha|;
  prune  NB201 argmax per edge; DARTS genotype derivation (§2.4). (freenas's prune also counts
         the genotype's evaluation-network parameters and multiply-adds; not done here.)
Steady state: one untimed warm-up search, then the median of --reps searches with seeds 1..N.

    python3 bench/pytorch/search_torch.py [--cases a,b] [--reps 5] [--threads 2] [--data DIR]
    python3 bench/pytorch/search_torch.py --check [--ref DIR]
Prints one JSON line per case (field names of bench_search's JSON rows where they apply).
--check loads ../shared/ref/{nb201,darts}_tiny.bin into the same modules and compares logits,
loss, dL/dalpha, SNIP, SynFlow R and SynFlow with the stored values at the reference README's
tolerance |a - b| <= 1e-5 + 1e-3 |b| (float32); exit status 1 when any value is outside it.

PyTorch is not a freenas dependency: bench/run_bench_search_torch.sh makes a virtual
environment (python3 -m venv; pip install torch) when asked."""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# case: space, dataset, metric, cells, batch (bench/bench_search.c's table)
CASES = {
    'nb201-synflow': ('nb201', 'cifar10', 'synflow', 5, 1),
    'nb201-snip': ('nb201', 'cifar10', 'snip', 5, 64),
    'darts8-synflow': ('darts', 'cifar10', 'synflow', 8, 1),
    'darts8-snip': ('darts', 'cifar10', 'snip', 8, 64),
    'darts20-synflow': ('darts', 'cifar10', 'synflow', 20, 1),
    'darts20-snip': ('darts', 'cifar10', 'snip', 20, 64),
    'darts224-synflow': ('darts', 'imagenet224', 'synflow', 14, 1),
    'darts224-snip': ('darts', 'imagenet224', 'snip', 14, 16),
}
# datasets/dataset.c: classes, side, crop padding, mean, std, file, record layout
DATASETS = {
    'cifar10': (10, 32, 4, (125.3 / 255, 123.0 / 255, 113.9 / 255),
                (63.0 / 255, 62.1 / 255, 66.7 / 255)),
    'imagenet224': (1000, 224, 0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']
DARTS_OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3',
             'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']


# ------------------------------------------------------------------------------ modules

class BN(nn.Module):
    """BatchNorm2d (train mode, eps 1e-5); `on` False removes it (SynFlow's path form) while
    keeping its parameters, so parameter counts and state_dict stay those of the net."""

    def __init__(self, reg, name, C, affine):
        super().__init__()
        self.bn = nn.BatchNorm2d(C, affine=affine)
        self.on = True
        if affine:
            reg[name + '.weight'] = self.bn.weight
            reg[name + '.bias'] = self.bn.bias

    def forward(self, x):
        return self.bn(x) if self.on else x


def conv(reg, name, ci, co, k, s=1, p=0, d=1, g=1):
    m = nn.Conv2d(ci, co, k, s, p, dilation=d, groups=g, bias=False)
    reg[name + '.weight'] = m.weight
    return m


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x.mul(0.) if self.stride == 1 else x[:, :, ::self.stride, ::self.stride].mul(0.)


class ReLUConvBN(nn.Module):
    def __init__(self, reg, name, ci, co, k, s, p, affine, conv_name='conv', bn_name='bn'):
        super().__init__()
        self.conv = conv(reg, f'{name}.{conv_name}' if conv_name else name, ci, co, k, s, p)
        self.bn = BN(reg, f'{name}.{bn_name}', co, affine)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x)))


class MixedOp(nn.Module):
    def __init__(self, ops):
        super().__init__()
        self.ops = nn.ModuleList(ops)

    def forward(self, x, w):
        return sum(w[i] * op(x) for i, op in enumerate(self.ops))


class NB201Cell(nn.Module):
    def __init__(self, reg, k, C):
        super().__init__()
        edges = []
        for e in range(6):
            p = f'cell{k}.edge{e}'
            edges.append(MixedOp([
                Zero(1), nn.Identity(),
                ReLUConvBN(reg, p + '.nor_conv_1x1', C, C, 1, 1, 0, False, '', 'bn'),
                ReLUConvBN(reg, p + '.nor_conv_3x3', C, C, 3, 1, 1, False, '', 'bn'),
                nn.AvgPool2d(3, 1, 1, count_include_pad=False)]))
        self.edges = nn.ModuleList(edges)

    def forward(self, x, alpha):
        nodes = [x]
        for i in range(1, 4):
            nodes.append(sum(self.edges[i * (i - 1) // 2 + j](nodes[j], alpha[i * (i - 1) // 2 + j])
                             for j in range(i)))
        return nodes[3]


class ResBlock(nn.Module):
    """NB201's stride-2 ResNet block; its BNs stay when BN is removed (ZC, §3.0)."""

    def __init__(self, reg, r, ci, co):
        super().__init__()
        self.a = ReLUConvBN(reg, f'res{r}.a', ci, co, 3, 2, 1, True)
        self.b = ReLUConvBN(reg, f'res{r}.b', co, co, 3, 1, 1, True)
        self.down = conv(reg, f'res{r}.down.conv', ci, co, 1)

    def forward(self, x):
        return self.down(F.avg_pool2d(x, 2, 2)) + self.b(self.a(x))


class NB201Net(nn.Module):
    def __init__(self, C=16, N=5, classes=10):
        super().__init__()
        self.reg = reg = {}
        self.stem = conv(reg, 'stem.conv', 3, C, 3, 1, 1)
        self.stem_bn = BN(reg, 'stem.bn', C, True)
        layers, k = [], 0
        for stage in range(3):
            if stage:
                layers.append(ResBlock(reg, stage - 1, C, 2 * C))
                C *= 2
            for _ in range(N):
                layers.append(NB201Cell(reg, k, C))
                k += 1
        self.layers = nn.ModuleList(layers)
        self.head_bn = BN(reg, 'head.bn', C, True)
        self.classifier = nn.Linear(C, classes)
        reg['classifier.weight'], reg['classifier.bias'] = self.classifier.weight, self.classifier.bias
        self.alpha_names = ['alpha']
        self.alpha_shapes = [(6, 5)]

    def remove_bn(self):  # keeps the ResNet blocks' BNs (ZC's BN-free copy)
        keep = {id(m) for l in self.layers if isinstance(l, ResBlock) for m in l.modules()}
        for m in self.modules():
            if isinstance(m, BN) and id(m) not in keep:
                m.on = False

    def forward(self, x, alphas):
        x = self.stem_bn(self.stem(x))
        for l in self.layers:
            x = l(x, alphas[0]) if isinstance(l, NB201Cell) else l(x)
        x = F.relu(self.head_bn(x))
        return self.classifier(x.mean((2, 3)))


class FactorizedReduce(nn.Module):
    def __init__(self, reg, name, ci, co):
        super().__init__()
        self.c1 = conv(reg, name + '.c1', ci, co // 2, 1, 2)
        self.c2 = conv(reg, name + '.c2', ci, co // 2, 1, 2)
        self.bn = BN(reg, name + '.bn', co, False)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.c1(x), self.c2(x[:, :, 1:, 1:])], dim=1))


class DilConv(nn.Module):
    def __init__(self, reg, name, C, k, s, p, d, dw='dw', pw='pw', bn='bn'):
        super().__init__()
        self.dw = conv(reg, f'{name}.{dw}', C, C, k, s, p, d, C)
        self.pw = conv(reg, f'{name}.{pw}', C, C, 1)
        self.bn = BN(reg, f'{name}.{bn}', C, False)

    def forward(self, x):
        return self.bn(self.pw(self.dw(F.relu(x))))


class SepConv(nn.Sequential):
    def __init__(self, reg, name, C, k, s, p):
        super().__init__(DilConv(reg, name, C, k, s, p, 1, 'dw1', 'pw1', 'bn1'),
                         DilConv(reg, name, C, k, 1, p, 1, 'dw2', 'pw2', 'bn2'))


def darts_mixed(reg, name, C, s):
    pool_bn = lambda p, op: nn.Sequential(p, BN(reg, f'{name}.{op}', C, False))
    return MixedOp([
        Zero(s),
        pool_bn(nn.MaxPool2d(3, s, 1), 'max_pool_3x3'),
        pool_bn(nn.AvgPool2d(3, s, 1, count_include_pad=False), 'avg_pool_3x3'),
        nn.Identity() if s == 1 else FactorizedReduce(reg, name + '.skip_connect', C, C),
        SepConv(reg, name + '.sep_conv_3x3', C, 3, s, 1),
        SepConv(reg, name + '.sep_conv_5x5', C, 5, s, 2),
        DilConv(reg, name + '.dil_conv_3x3', C, 3, s, 2, 2),
        DilConv(reg, name + '.dil_conv_5x5', C, 5, s, 4, 2)])


class DartsCell(nn.Module):
    def __init__(self, reg, i, cpp, cp, C, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        self.pre0 = (FactorizedReduce(reg, f'cell{i}.pre0', cpp, C) if reduction_prev
                     else ReLUConvBN(reg, f'cell{i}.pre0', cpp, C, 1, 1, 0, False))
        self.pre1 = ReLUConvBN(reg, f'cell{i}.pre1', cp, C, 1, 1, 0, False)
        ops, e = [], 0
        for n in range(4):
            for j in range(n + 2):
                ops.append(darts_mixed(reg, f'cell{i}.edge{e}', C, 2 if reduction and j < 2 else 1))
                e += 1
        self.ops = nn.ModuleList(ops)

    def forward(self, s0, s1, w):
        states, off = [self.pre0(s0), self.pre1(s1)], 0
        for _ in range(4):
            s = sum(self.ops[off + j](h, w[off + j]) for j, h in enumerate(states))
            off += len(states)
            states.append(s)
        return torch.cat(states[-4:], dim=1)


class DartsNet(nn.Module):
    def __init__(self, C=16, layers=8, classes=10, imagenet=False):
        super().__init__()
        self.reg = reg = {}
        cs = 3 * C
        self.imagenet = imagenet
        if imagenet:  # FD model_search_imagenet.py
            self.stem0 = nn.Sequential(conv(reg, 'stem0.conv1', 3, cs // 2, 3, 2, 1),
                                       BN(reg, 'stem0.bn1', cs // 2, True), nn.ReLU(),
                                       conv(reg, 'stem0.conv2', cs // 2, cs, 3, 2, 1),
                                       BN(reg, 'stem0.bn2', cs, True))
            self.stem1 = nn.Sequential(nn.ReLU(), conv(reg, 'stem1.conv', cs, cs, 3, 2, 1),
                                       BN(reg, 'stem1.bn', cs, True))
        else:
            self.stem = nn.Sequential(conv(reg, 'stem.conv', 3, cs, 3, 1, 1),
                                      BN(reg, 'stem.bn', cs, True))
        cpp, cp, Cc, rp = cs, cs, C, imagenet
        cells = []
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                Cc *= 2
            cells.append(DartsCell(reg, i, cpp, cp, Cc, red, rp))
            rp = red
            cpp, cp = cp, 4 * Cc
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(cp, classes)
        reg['classifier.weight'], reg['classifier.bias'] = self.classifier.weight, self.classifier.bias
        self.alpha_names = ['alpha_normal', 'alpha_reduce']
        self.alpha_shapes = [(14, 8), (14, 8)]

    def remove_bn(self):
        for m in self.modules():
            if isinstance(m, BN):
                m.on = False

    def forward(self, x, alphas):
        if self.imagenet:
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        else:
            s0 = s1 = self.stem(x)
        for c in self.cells:
            s0, s1 = s1, c(s0, s1, alphas[1] if c.reduction else alphas[0])
        return self.classifier(s1.mean((2, 3)))


# ------------------------------------------------------------------------------ scoring

def saliency(net, alphas, metric, x, labels, abs_params, abs_alpha):
    """S per alpha group (|alpha * dObjective/dalpha|), the objective's value, the logits and
    d objective / d alpha."""
    with torch.no_grad():
        if abs_params:
            for v in net.state_dict().values():
                v.abs_()
        if abs_alpha:
            for a in alphas:
                a.abs_()
    z = net(x, alphas)
    obj = z.sum() if metric == 'synflow' else F.cross_entropy(z, labels)
    grads = torch.autograd.grad(obj, alphas)
    with torch.no_grad():
        return [(a * g).abs() for a, g in zip(alphas, grads)], obj.item(), z.detach(), grads


def nb201_prune(S):
    return [int(np.argmax(r)) for r in S]  # first maximum on ties, as nb201_prune


def darts_derive(W):
    """docs/METHOD.md §2.4 on the raw saliency: per node the 2 strongest inputs (strength =
    max over ops other than none; stable sort), on each the strongest op (none excluded)."""
    gene, start = [], 0
    for n in range(4):
        rows = list(range(start, start + n + 2))
        strength = lambda e: max(W[e][o] for o in range(1, 8))
        best = sorted(rows, key=lambda e: -strength(e))[:2]
        for e in best:
            o = max(range(1, 8), key=lambda o: (W[e][o], -o))
            gene.append((DARTS_OPS[o], e - start))
        start += n + 2
    return gene


# ------------------------------------------------------------------------------ data

def load_batch(dataset, data_dir, n, seed):
    classes, side, pad, mean, std = DATASETS[dataset]
    rng = np.random.default_rng(seed)
    if dataset == 'cifar10':
        path = None
        for c in ('data_batch_1.bin', 'data_batch_1_head.bin', 'cifar10/data_batch_1_head.bin',
                  'cifar-10-batches-bin/data_batch_1.bin'):
            if os.path.exists(os.path.join(data_dir, c)):
                path = os.path.join(data_dir, c)
                break
        if not path:
            sys.exit(f'search_torch: no CIFAR-10 file under {data_dir}')
        rec = np.memmap(path, np.uint8, 'r').reshape(-1, 1 + 3 * 32 * 32)
        idx = np.sort(rng.choice(len(rec), n, replace=False))
        r = np.asarray(rec[idx])
        labels, img = r[:, 0].astype(np.int64), r[:, 1:].reshape(n, 3, 32, 32)
    else:
        d = os.path.join(data_dir, 'imagenet224')
        raw = np.memmap(os.path.join(d, 'images_u8_nchw.bin'), np.uint8, 'r', offset=32)
        img_all = raw.reshape(-1, 3, 224, 224)
        lab_all = np.fromfile(os.path.join(d, 'labels_u16.bin'), '<u2')
        idx = np.sort(rng.choice(len(img_all), n, replace=False))
        img, labels = np.asarray(img_all[idx]), lab_all[idx].astype(np.int64)
    x = (img.astype(np.float32) / 255 - np.array(mean, np.float32)[:, None, None]) \
        / np.array(std, np.float32)[:, None, None]
    if pad:  # NB201 order: flip, random crop with zero padding
        flip = rng.random(n) < 0.5
        x[flip] = x[flip, :, :, ::-1]
        xp = np.zeros((n, 3, side + 2 * pad, side + 2 * pad), np.float32)
        xp[:, :, pad:pad + side, pad:pad + side] = x
        d = rng.integers(0, 2 * pad + 1, (n, 2))
        x = np.stack([xp[b, :, d[b, 0]:d[b, 0] + side, d[b, 1]:d[b, 1] + side] for b in range(n)])
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(labels)


# ------------------------------------------------------------------------------ one search

def search(case, seed, data_dir):
    space, dataset, metric, cells, batch = CASES[case]
    classes, side = DATASETS[dataset][:2]
    synflow = metric == 'synflow'
    dtype = torch.float64 if synflow else torch.float32
    t0 = time.perf_counter()
    x, labels = (load_batch(dataset, data_dir, batch, seed) if not synflow else (None, None))
    t1 = time.perf_counter()
    torch.manual_seed(seed)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        if space == 'nb201':
            net = NB201Net(16, cells, classes)
        else:
            imagenet = side > 32
            net = DartsNet(48 if imagenet else 16, cells, classes, imagenet)
            if synflow:
                net.remove_bn()  # path form: BN removed, |alpha| (freenas's DARTS default)
    finally:
        torch.set_default_dtype(prev)
    net.requires_grad_(False)
    net.train()
    t2 = time.perf_counter()
    scale = 5e-4 if side > 32 else 1e-3
    alphas = [(scale * torch.randn(s, dtype=dtype)).requires_grad_() for s in net.alpha_shapes]
    x = torch.ones(1, 3, side, side, dtype=dtype) if synflow else x
    t3 = time.perf_counter()
    S, value, _, _ = saliency(net, alphas, metric, x, labels,
                           abs_params=synflow or space == 'darts', abs_alpha=synflow)
    t4 = time.perf_counter()
    S = [s.numpy() for s in S]
    arch = nb201_prune(S[0]) if space == 'nb201' else (darts_derive(S[0]), darts_derive(S[1]))
    t5 = time.perf_counter()
    params = sum(p.numel() for p in net.parameters())
    return dict(search_s=t5 - t0, score_s=t4 - t3, data_s=t1 - t0, build_s=t2 - t1,
                init_s=t3 - t2, prune_s=t5 - t4, params=params, batch=batch, value=value, arch=arch)


def bench(args):
    torch.set_num_threads(args.threads)
    for case in args.cases.split(','):
        if case not in CASES:
            sys.exit(f'search_torch: unknown case {case!r} (known: {", ".join(CASES)})')
        space, dataset, metric, cells, batch = CASES[case]
        search(case, 0, args.data)  # warm-up, untimed
        runs = [search(case, k + 1, args.data) for k in range(args.reps)]
        med = lambda f: statistics.median(r[f] for r in runs)
        print(json.dumps({
            'bench': 'search', 'impl': 'pytorch', 'case': case, 'space': space, 'metric': metric,
            'dataset': dataset, 'batch': batch, 'params': runs[0]['params'],
            'searches': args.reps, 'threads': args.threads, 'torch': torch.__version__,
            'dtype': 'float64' if metric == 'synflow' else 'float32',
            'search_s': med('search_s'), 'score_s': med('score_s'), 'data_s': med('data_s'),
            'build_s': med('build_s'), 'init_s': med('init_s'), 'prune_s': med('prune_s'),
            'search_runs_s': [round(r['search_s'], 6) for r in runs]}), flush=True)


# ------------------------------------------------------------------------------ --check

def philox_u53(seed, stream, n, c3):
    """nn/rng.c: Philox4x32-10 of counters (i, 0, stream, c3), i = 0..n-1, as two 53-bit
    uniforms in [0, 1) (words 0-1 and 2-3)."""
    M0, M1, W0, W1, m32 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85, 0xFFFFFFFF
    i = np.arange(n, dtype=np.uint64)
    x0, x1 = i & m32, i >> np.uint64(32)
    x2, x3 = np.full(n, stream, np.uint64), np.full(n, c3, np.uint64)
    k0, k1 = seed & m32, (seed >> 32) & m32
    for _ in range(10):
        p0, p1 = np.uint64(M0) * x0, np.uint64(M1) * x2
        x0, x1, x2, x3 = ((p1 >> np.uint64(32)) ^ x1 ^ np.uint64(k0), p1 & np.uint64(m32),
                          (p0 >> np.uint64(32)) ^ x3 ^ np.uint64(k1), p0 & np.uint64(m32))
        k0, k1 = (k0 + W0) & m32, (k1 + W1) & m32
    u = lambda hi, lo: ((hi >> np.uint64(5)) << np.uint64(26) | (lo >> np.uint64(6))).astype(
        np.float64) / 9007199254740992.0
    return u(x0, x1), u(x2, x3)


def freenas_init(net, alphas, seed, scale):
    """freenas's weights and alpha for `seed` (engine/exec.c exec_init_params /
    exec_init_alpha): parameter p (creation order, which net.reg follows) draws
    U(+-1/sqrt(fan_in)) from stream p, BN weights 1, biases 0; alpha group k is
    scale * randn (Box-Muller) from stream 0x40000000 + k."""
    fan, first = {}, {}
    with torch.no_grad():
        for p, (name, t) in enumerate(net.reg.items()):
            base = name.rsplit('.', 1)[0]
            if t.dim() > 1:
                fan[base] = t[0].numel()
            if name.endswith('.bias') and base not in fan:  # BN bias
                t.zero_()
            elif t.dim() == 1 and base not in fan:  # BN weight
                t.fill_(1.0)
            else:
                b = 1.0 / np.sqrt(fan[base])
                t.copy_(torch.from_numpy(b * (2.0 * philox_u53(seed, p, t.numel(), 0)[0] - 1.0))
                        .reshape(t.shape))
        for k, a in enumerate(alphas):
            u1, u2 = philox_u53(seed, 0x40000000 + k, a.numel(), 1)
            z = np.sqrt(-2.0 * np.log(np.maximum(u1, 1e-300))) * np.cos(6.283185307179586476925 * u2)
            a.copy_(torch.from_numpy(scale * z).reshape(a.shape))


def against(args):
    """SynFlow searches of the benchmark cases on freenas's own weights and alpha, against the
    scores `freenas search --json` prints for the same seed."""
    import subprocess
    torch.set_num_threads(args.threads)
    ok = True
    for case in args.cases.split(','):
        space, dataset, metric, cells, batch = CASES[case]
        if metric != 'synflow':
            print(f'{case}: skipped (--against-freenas compares SynFlow searches: SNIP needs '
                  f'freenas\'s sampled batch; --check covers SNIP)')
            continue
        cmd = [args.against_freenas, 'search', '--space', space, '--metric', 'synflow',
               '--dataset', dataset, '--cells', str(cells), '--seed', '1', '--json',
               '--no-benchmark']
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        want = np.array(json.loads(out.strip().splitlines()[-1])['scores'], np.float64)
        classes, side = DATASETS[dataset][:2]
        torch.set_default_dtype(torch.float64)
        if space == 'nb201':
            net = NB201Net(16, cells, classes)
        else:
            net = DartsNet(48 if side > 32 else 16, cells, classes, side > 32)
            net.remove_bn()
        torch.set_default_dtype(torch.float32)
        net.requires_grad_(False)
        net.train()
        alphas = [torch.zeros(sh, dtype=torch.float64) for sh in net.alpha_shapes]
        freenas_init(net, alphas, 1, 5e-4 if side > 32 else 1e-3)
        for a in alphas:
            a.requires_grad_()
        S, R, _, _ = saliency(net, alphas, 'synflow', torch.ones(1, 3, side, side,
                              dtype=torch.float64), None, True, True)
        got = torch.cat(S).numpy()
        smax = np.abs(want).max()
        r = np.max(np.abs(got - want) / (1e-9 * smax + 1e-7 * np.abs(want)))
        good = r <= 1.0 and want.shape == got.shape
        ok &= good
        print(f'{case}: {got.size} scores (max {smax:.3g}), max error / tolerance {r:.3g} '
              f'(|a - b| <= 1e-9 max|S| + 1e-7 |b|, float64)  {"ok" if good else "FAIL"}')
    return 0 if ok else 1


def read_ref(path):
    with open(path, 'rb') as f:
        b = f.read()
    if b[:8] != b'FNREF001':
        sys.exit(f'search_torch: {path} is not an FNREF001 file')
    (n,), o, out = struct.unpack_from('<I', b, 8), 12, {}
    for _ in range(n):
        name = b[o:o + 64].split(b'\0')[0].decode()
        dt, nd = struct.unpack_from('<II', b, o + 64)
        dims = struct.unpack_from('<4I', b, o + 72)[:nd]
        o += 88
        np_dt = [np.float32, np.float64, np.int32][dt]
        cnt = int(np.prod(dims))
        out[name] = np.frombuffer(b, np_dt, cnt, o).reshape(dims).copy()
        o += cnt * np.dtype(np_dt).itemsize
    return out


def check(args):
    torch.set_num_threads(args.threads)
    ok, worst = True, 0.0

    def compare(what, got, want):
        nonlocal ok, worst
        got = np.asarray(got, np.float64).ravel()
        want = np.asarray(want, np.float64).ravel()
        r = np.max(np.abs(got - want) / (1e-5 + 1e-3 * np.abs(want)))
        worst = max(worst, r)
        good = r <= 1.0
        ok &= good
        print(f'  {what:38s} {len(want):4d} values  max error / tolerance {r:.3g}  '
              f'{"ok" if good else "FAIL"}')

    for tag, fn in (('nb201', 'nb201_tiny.bin'), ('darts', 'darts_tiny.bin')):
        ref = read_ref(os.path.join(args.ref, fn))
        print(f'{tag} ({fn}):')
        for metric in ('snip', 'synflow'):
            # SynFlow in float64, as freenas runs it: on the DARTS net the literal form's exact
            # scores are 0 (docs/METHOD.md §3.11) and the stored float32 ones rounding noise
            # below 1e-5, which float32 here would reproduce only by chance
            dt = torch.float64 if metric == 'synflow' else torch.float32
            torch.set_default_dtype(dt)
            net = NB201Net(4, 1, 10) if tag == 'nb201' else DartsNet(4, 5, 10, False)
            torch.set_default_dtype(torch.float32)
            net.requires_grad_(False)
            net.train()
            names = set(k for k in ref if k.endswith(('.weight', '.bias')))
            if names != set(net.reg):
                sys.exit(f'search_torch --check: parameter names differ: only in the file '
                         f'{sorted(names - set(net.reg))[:5]}, only here {sorted(set(net.reg) - names)[:5]}')
            with torch.no_grad():
                for k, p in net.reg.items():
                    p.copy_(torch.from_numpy(ref[k]))
            alphas = [torch.from_numpy(ref[a]).to(dt).requires_grad_() for a in net.alpha_names]
            if metric == 'snip':
                x = torch.from_numpy(ref['input'])
                labels = torch.from_numpy(ref['labels']).long()
                S, loss, z, g = saliency(net, alphas, 'snip', x, labels, False, False)
                compare('logits', z, ref['logits'])
                compare('loss', [loss], ref['loss'])
                for a, s, ga in zip(net.alpha_names, S, g):
                    compare(f'dL_dalpha.{a}', ga, ref[f'dL_dalpha.{a}'])
                    compare(f'snip.{a}', s, ref[f'snip.{a}'])
            else:  # the reference's form: BN in train mode, |alpha| on NB201 only
                S, R, _, _ = saliency(net, alphas, 'synflow', torch.ones(1, 3, 8, 8, dtype=dt), None, True,
                                   tag == 'nb201')
                compare('synflow_R', [R], ref['synflow_R'])
                for a, s in zip(net.alpha_names, S):
                    compare(f'synflow.{a} (max {s.abs().max().item():.2g})', s, ref[f'synflow.{a}'])
    print(f'check: {"ok" if ok else "FAILED"}, worst error / tolerance {worst:.3g} '
          f'(tolerance |a - b| <= 1e-5 + 1e-3 |b|; SNIP float32, SynFlow float64)')
    return 0 if ok else 1


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cases', default='nb201-synflow,nb201-snip,darts8-synflow')
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--data', default=os.path.join(root, '..', 'shared', 'data'))
    ap.add_argument('--check', action='store_true')
    ap.add_argument('--ref', default=os.path.join(root, '..', 'shared', 'ref'))
    ap.add_argument('--against-freenas', metavar='BIN',
                    help='SynFlow cases of --cases on freenas\'s weights against `BIN search`')
    args = ap.parse_args()
    torch.set_num_interop_threads(1)
    if args.check:
        return check(args)
    if args.against_freenas:
        return against(args)
    bench(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
