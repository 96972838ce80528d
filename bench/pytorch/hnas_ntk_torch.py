"""bench/pytorch/hnas_ntk_torch.py: HNAS's M and kappa (docs/METHOD.md §3.8, §4.2) of NAS-Bench-201
architectures computed by PyTorch, as the reference for freenas's hnas_* proxies (hnas/README.md,
"M and kappa against PyTorch"). Run by bench/run_hnas_ntk_torch.sh; PyTorch is not a freenas
dependency (bench/torch_python.sh finds an interpreter).

Network: ZC's NAS201Model (foresight/models/nasbench2.py, nasbench2_ops.py) written out: stem
Conv3x3(3->16, no bias) + BN; 3 stages of 5 SearchCells (every op of every edge instantiated in
ZC's dict order none, avg_pool_3x3, nor_conv_3x3, nor_conv_1x1, skip_connect; keep_mask selects
the ones that run), cell ReLU-Conv(bias=True)-BN(affine=False, track_running_stats=False);
reduction blocks (AvgPool2x2 + Conv1x1 shortcut, ReLUConvBN stride 2 and 1 with affine BN);
top BN + ReLU + global average pool + Linear(64 -> 10). PyTorch's default init, train mode.

M and kappa: one backward of S = sum_n f_{y_n}(x_n) (the true-class logits) in train mode; for
every Conv2d and Linear that ran, its input A (forward hook) and the gradient B of its output
(tensor hook), then as HNAS's tools/autograd_hacks.compute_grad1(loss_type='sum'): conv
grad1 = B_n unfold(A_n)^T per sample (bias: B_n summed over positions), linear B_n (x) A_n
(bias B_n). Theta = G G^T with the per-layer products accumulated in float64 (freenas's Gram
precision) and, separately, in float32 (HNAS's); M = sqrt(tr Theta / N); kappa = lambda_max /
lambda_min by eigvalsh (NaN -> 1e5). grad_norm and snip: ZC's, a cross-entropy pass (mean over
the batch), conv/linear weights only: sum over layers of ||dL/dW||_F and sum |W dL/dW|.

Modes:
  same  for each index: draws weights and a batch, computes the values, and writes them with
        the weights (under freenas's graph parameter names), the batch and labels, the
        arch's ops and per-layer diagonals of Theta into OUT/arch<index>.bin (FNREF001,
        ../shared/ref/README.md) for bench/hnas_ntk_ref.c to score with freenas's code;
        then the same in float64 on the same (exactly cast) weights and batch (keys *_f64,
        theta_f64, ntkdiag64.*), which separates float32 rounding from a difference in math;
  dist  for each index: PyTorch's own init (torch.manual_seed(seed * 100003 + index)) and a
        fresh augmented batch; prints one JSON line per architecture.
Batch: 64 distinct records of the CIFAR-10 training file in --data, RandomCrop(32, pad 4) and
RandomHorizontalFlip, normalised with ZC's mean/std (HNAS's loader) or NB201's (--norm nb201).
  python bench/pytorch/hnas_ntk_torch.py same --indices 0,1,2 --table T.tsv --out DIR
  python bench/pytorch/hnas_ntk_torch.py dist --indices 0,156,312 --table T.tsv
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ZC_OPS = ["none", "avg_pool_3x3", "nor_conv_3x3", "nor_conv_1x1", "skip_connect"]
FN_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]  # freenas order
NORM = {"zc": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
        "nb201": ((125.3 / 255, 123.0 / 255, 113.9 / 255), (63.0 / 255, 62.1 / 255, 66.7 / 255))}


def parse_arch(s):
    """|op~0|+|op~0|op~1|+|op~0|op~1|op~2| -> 6 op names in edge order (1<-0, 2<-0, 2<-1, ...)."""
    ops = []
    for node in s.split("+"):
        for item in node.strip("|").split("|"):
            ops.append(item.split("~")[0])
    assert len(ops) == 6, s
    return ops


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad, affine):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=not affine),
                                nn.BatchNorm2d(cout, affine=affine, track_running_stats=affine))

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.)


class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.avgpool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.avgpool(x)


def make_op(name, C):
    if name == "none": return Zero()
    if name == "avg_pool_3x3": return Pool()
    if name == "nor_conv_3x3": return ReLUConvBN(C, C, 3, 1, 1, False)
    if name == "nor_conv_1x1": return ReLUConvBN(C, C, 1, 1, 0, False)
    return nn.Identity()


class SearchCell(nn.Module):
    def __init__(self, C, keep):
        super().__init__()
        self.options = nn.ModuleList([make_op(o, C) for _ in range(6) for o in ZC_OPS])
        self.keep = keep

    def forward(self, x):
        outs, idx = [x], 0
        for cur in range(3):
            ins = []
            for prev in range(cur + 1):
                for _ in ZC_OPS:
                    if self.keep[idx]: ins.append(self.options[idx](outs[prev]))
                    idx += 1
            outs.append(sum(ins))
        return outs[-1]


class Reduction(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.residual = nn.Sequential(nn.AvgPool2d(2, 2, 0), nn.Conv2d(cin, cout, 1, bias=False))
        self.conv_a = ReLUConvBN(cin, cout, 3, 2, 1, True)
        self.conv_b = ReLUConvBN(cout, cout, 3, 1, 1, True)

    def forward(self, x):
        return self.residual(x) + self.conv_b(self.conv_a(x))


class NAS201Model(nn.Module):
    def __init__(self, ops, C=16, N=5, classes=10):
        super().__init__()
        keep = [o == z for o in ops for z in ZC_OPS]
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        self.stack_cell1 = nn.Sequential(*[SearchCell(C, keep) for _ in range(N)])
        self.reduction1 = Reduction(C, 2 * C)
        self.stack_cell2 = nn.Sequential(*[SearchCell(2 * C, keep) for _ in range(N)])
        self.reduction2 = Reduction(2 * C, 4 * C)
        self.stack_cell3 = nn.Sequential(*[SearchCell(4 * C, keep) for _ in range(N)])
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(4 * C, classes)
        self.ops, self.N = ops, N

    def forward(self, x):
        x = self.stem(x)
        x = self.reduction1(self.stack_cell1(x))
        x = self.reduction2(self.stack_cell2(x))
        x = self.lastact(self.stack_cell3(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def fn_names(self):
        """PyTorch parameter name -> freenas graph parameter name (nasbench/nb201_net.c)."""
        m = {"stem.0.weight": "stem.conv.weight", "stem.1.weight": "stem.bn.weight",
             "stem.1.bias": "stem.bn.bias", "lastact.0.weight": "head.bn.weight",
             "lastact.0.bias": "head.bn.bias", "classifier.weight": "classifier.weight",
             "classifier.bias": "classifier.bias"}
        for r in (1, 2):
            p, q = f"reduction{r}", f"res{r - 1}"
            m[f"{p}.residual.1.weight"] = f"{q}.down.conv.weight"
            for ab in "ab":
                m[f"{p}.conv_{ab}.op.1.weight"] = f"{q}.{ab}.conv.weight"
                m[f"{p}.conv_{ab}.op.2.weight"] = f"{q}.{ab}.bn.weight"
                m[f"{p}.conv_{ab}.op.2.bias"] = f"{q}.{ab}.bn.bias"
        for s in range(3):
            for i in range(self.N):
                k = s * self.N + i
                for e, o in enumerate(self.ops):
                    if o not in ("nor_conv_3x3", "nor_conv_1x1"): continue
                    j = e * len(ZC_OPS) + ZC_OPS.index(o)
                    for wb in ("weight", "bias"):
                        m[f"stack_cell{s + 1}.{i}.options.{j}.op.1.{wb}"] = f"cell{k}.edge{e}.{o}.conv.{wb}"
        return m


def load_cifar(data):
    for p in ("cifar10/data_batch_1_head.bin", "data_batch_1_head.bin", "data_batch_1.bin"):
        f = os.path.join(data, p)
        if os.path.exists(f):
            raw = np.fromfile(f, dtype=np.uint8)
            raw = raw[: raw.size // 3073 * 3073].reshape(-1, 3073)
            return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)
    sys.exit(f"hnas_ntk_torch.py: no CIFAR-10 training file under {data}")


def draw_batch(imgs, labels, n, rng, norm):
    """n distinct records, RandomCrop(32, padding=4) (zero pixels) and RandomHorizontalFlip."""
    idx = rng.choice(len(imgs), n, replace=False)
    x = np.zeros((n, 3, 32, 32), np.float32)
    for b, i in enumerate(idx):
        pad = np.zeros((3, 40, 40), np.float32)
        pad[:, 4:36, 4:36] = imgs[i] / 255.0
        dy, dx = rng.integers(0, 9, 2)
        im = pad[:, dy:dy + 32, dx:dx + 32]
        x[b] = im[:, :, ::-1] if rng.random() < 0.5 else im
    mean, std = NORM[norm]
    x = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    return torch.from_numpy(x), torch.from_numpy(labels[idx])


def ntk(net, x, y):
    """Theta (float64 and float32 accumulation) and per-layer diagonals, HNAS's way (module doc)."""
    layers, handles = [], []

    def fwd(mod, inp, out):
        rec = {"mod": mod, "A": inp[0].detach()}
        out.register_hook(lambda g: rec.__setitem__("B", g.detach()))
        layers.append(rec)

    for mod in net.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)): handles.append(mod.register_forward_hook(fwd))
    net.zero_grad()
    out = net(x)
    out.gather(1, y[:, None]).sum().backward()
    for h in handles: h.remove()
    n = x.shape[0]
    th64 = torch.zeros(n, n, dtype=torch.float64)
    th32 = torch.zeros(n, n, dtype=torch.float32)
    diag = {}
    for rec in layers:
        mod, A, B = rec["mod"], rec["A"], rec["B"]
        if isinstance(mod, nn.Linear):
            g = torch.einsum("ni,nj->nij", B, A).reshape(n, -1)
            parts = [g, B] if mod.bias is not None else [g]
        else:
            U = F.unfold(A, mod.kernel_size, dilation=mod.dilation, padding=mod.padding,
                         stride=mod.stride)
            Bm = B.reshape(n, B.shape[1], -1)
            g = torch.bmm(Bm, U.transpose(1, 2)).reshape(n, -1)
            parts = [g, Bm.sum(2)] if mod.bias is not None else [g]
        G = torch.cat(parts, 1)
        G32 = G.float()
        th32 += G32 @ G32.T
        G64 = G.double()
        th64 += G64 @ G64.T
        diag[mod] = (G64 * G64).sum(1)
    return th64, th32, diag


def metrics_of(th):
    n = th.shape[0]
    M = math.sqrt(float(torch.trace(th)) / n)
    ev = torch.linalg.eigvalsh(th)
    k = float(ev[-1] / ev[0])
    return M, (1e5 if math.isnan(k) else k)


def zc_ce(net, x, y):
    """grad_norm and snip of ZC on conv/linear weights, one CE pass (mean over the batch)."""
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    gn = sn = 0.0
    for mod in net.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.weight.grad is not None:
            gn += float(mod.weight.grad.norm())
            sn += float((mod.weight.detach() * mod.weight.grad).abs().sum())
    return gn, sn


def write_fnref(path, recs):
    with open(path, "wb") as f:
        f.write(b"FNREF001" + struct.pack("<I", len(recs)))
        for name, arr in recs:
            a = np.ascontiguousarray(arr)
            dt = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int32): 2}[a.dtype]
            dims = list(a.shape) + [1] * (4 - a.ndim)
            f.write(name.encode().ljust(64, b"\0") + struct.pack("<6I", dt, a.ndim, *dims))
            f.write(a.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["same", "dist"])
    ap.add_argument("--indices", required=True, help="NB201 indices, comma separated")
    ap.add_argument("--table", required=True, help="nb201_accuracy.tsv (index, arch, ...)")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default=".")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--norm", choices=list(NORM), default="zc")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    arch = {}
    with open(a.table) as f:
        head = f.readline().rstrip("\n").split("\t")
        ci, ca = head.index("index"), head.index("arch")
        for line in f:
            c = line.rstrip("\n").split("\t")
            arch[int(c[ci])] = c[ca]
    imgs, labels = load_cifar(a.data)
    for index in [int(s) for s in a.indices.split(",") if s]:
        t0 = time.time()
        ops = parse_arch(arch[index])
        torch.manual_seed(a.seed * 100003 + index)
        rng = np.random.default_rng(a.seed * 100003 + index)
        net = NAS201Model(ops).train()
        x, y = draw_batch(imgs, labels, a.batch, rng, a.norm)
        th64, th32, diag = ntk(net, x, y)
        M, kappa = metrics_of(th64)
        M32, kappa32 = metrics_of(th32)
        gn, sn = zc_ce(net, x, y)
        row = {"impl": "pytorch", "index": index, "arch": arch[index], "M": M, "kappa": kappa,
               "M_f32gram": M32, "kappa_f32gram": kappa32, "grad_norm": gn, "snip": sn,
               "seconds": time.time() - t0, "torch": torch.__version__, "norm": a.norm}
        if a.mode == "same":
            names = net.fn_names()
            recs = [(names[k], p.detach().numpy().astype(np.float32))
                    for k, p in net.named_parameters() if k in names]
            mods = {m: k for k, m in net.named_modules()}
            for mod, d in diag.items():
                recs.append(("ntkdiag." + names[mods[mod] + ".weight"][: -len(".weight")],
                             d.numpy()))
            recs += [("input", x.numpy()), ("labels", y.numpy().astype(np.int32)),
                     ("arch_ops", np.array([FN_OPS.index(o) for o in ops], np.int32)),
                     ("theta", th64.numpy())]
            recs += [(k, np.array([row[k]], np.float64)) for k in
                     ("M", "kappa", "M_f32gram", "kappa_f32gram", "grad_norm", "snip")]
            # the same weights and batch in float64 (PyTorch casts the float32 draws exactly)
            net64 = net.double()
            th, _, diag = ntk(net64, x.double(), y)
            M64, k64 = metrics_of(th)
            gn64, sn64 = zc_ce(net64, x.double(), y)
            row.update(M_f64=M64, kappa_f64=k64, grad_norm_f64=gn64, snip_f64=sn64)
            for mod, d in diag.items():
                recs.append(("ntkdiag64." + names[mods[mod] + ".weight"][: -len(".weight")],
                             d.numpy()))
            recs.append(("theta_f64", th.numpy()))
            recs += [(k, np.array([row[k]], np.float64)) for k in
                     ("M_f64", "kappa_f64", "grad_norm_f64", "snip_f64")]
            write_fnref(os.path.join(a.out, f"arch{index}.bin"), recs)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
