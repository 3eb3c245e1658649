#!/usr/bin/env python3
"""PyTorch side of bench/time-to-accuracy.ts: trains the SAME recipe as vgg-cifar (a resolved TrainOptions
object, as JSON) on the same device and prints the same JSON lines (bench/recipes/protocol.ts):
  {"kind":"epoch","epoch":1,"trainSeconds":...,"testAccuracy":...,"tta":"none"|"flip"} per epoch, then
  {"kind":"final","accuracy":{"none":...,"flip":...}}.
Written from the idea of ../shared/gpu/results-2026-12-04-h200/pytorch-recipe-anchor.py (data on the device,
crop + flip on the device, bf16 autocast + channels_last, SGD Nesterov + one-cycle, label smoothing), but
matched to vgg-cifar where the anchor differed: conv biases kept (vgg-cifar's VGG has them), Kaiming
normal fan_out init with N(0, 0.01) for the Linear layers, no weight decay on biases and BatchNorm, flip
TTA as the mean of the two softmax distributions (the anchor summed logits), and the evaluation after
each epoch outside the training time (the anchor's clock ran through it).

Usage: python3 bench/pytorch/recipe.py --data DIR/cifar-10-batches-bin --options '{"epochs":30,...}'
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

VGG_LAYERS = {
    11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def say(obj):
    print(json.dumps(obj), flush=True)


def refuse(o):
    """Options this side does not implement: a clear error instead of a different recipe."""
    wanted = {'optimizer': 'sgd', 'classifier': 'linear', 'init': 'kaiming_normal', 'reluOnLogits': False}
    bad = [f"{k}={o.get(k)!r} (only {v!r})" for k, v in wanted.items() if o.get(k) != v]
    if o.get('schedule') not in ('onecycle', 'linear', 'cosine', 'constant'):
        bad.append(f"schedule={o.get('schedule')!r} (only onecycle, linear, cosine, constant)")
    if o.get('resume'):
        bad.append('resume')
    if o.get('cutout', 0) > 0:
        bad.append(f"cutout={o.get('cutout')!r} (only 0)")
    if o.get('emaDecay', 0) > 0:
        bad.append(f"emaDecay={o.get('emaDecay')!r} (only 0: no moving average of the weights)")
    if bad:
        raise SystemExit('bench/pytorch/recipe.py: not implemented here: ' + ', '.join(bad))


def vgg(o):
    layers, c = [], 3
    for v in VGG_LAYERS[int(o['model'][3:])]:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
            continue
        w = v // o['widthDivisor']
        layers.append(nn.Conv2d(c, w, 3, padding=1))
        if o['batchNorm']:
            layers.append(nn.BatchNorm2d(w))
        layers.append(nn.ReLU(inplace=True))
        c = w
    layers += [nn.Flatten(), nn.Linear(c, 10)]
    model = nn.Sequential(*layers)
    for m in model.modules():  # torchvision's VGG init, as lib/train/loop.ts does for kaiming_normal
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return model


def load(bindir, names, limit, dev):
    raw = np.concatenate([np.fromfile(os.path.join(bindir, n), dtype=np.uint8).reshape(-1, 3073) for n in names])
    if limit > 0:
        raw = raw[:limit]
    x = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy()).to(dev)
    y = torch.from_numpy(raw[:, 0].astype(np.int64)).to(dev)
    return x, y


def normalized(x, o):
    """ToTensor (x / 255) then Normalize, as vgg-cifar's loadBatch."""
    if not o['normalize']:
        return x
    return (x - torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)) / torch.tensor(STD, device=x.device).view(1, 3, 1, 1)


def augment(x, pad_mode, gen):
    """Random crop of the padded image (4 pixels, zero or reflect) and a horizontal flip with p = 1/2, on
    the [0, 1] pixels before normalization (zero padding is black, as torchvision's RandomCrop on images)."""
    n = x.shape[0]
    xp = F.pad(x, (4, 4, 4, 4), mode='reflect' if pad_mode == 'reflect' else 'constant')
    i = torch.randint(0, 9, (n,), device=x.device, generator=gen)
    j = torch.randint(0, 9, (n,), device=x.device, generator=gen)
    ar = torch.arange(32, device=x.device)
    rows = (i.view(n, 1) + ar.view(1, 32)).view(n, 1, 32, 1)
    cols = (j.view(n, 1) + ar.view(1, 32)).view(n, 1, 1, 32)
    out = xp[torch.arange(n, device=x.device).view(n, 1, 1, 1), torch.arange(3, device=x.device).view(1, 3, 1, 1), rows, cols]
    flip = torch.rand(n, device=x.device, generator=gen) < 0.5
    return torch.where(flip.view(n, 1, 1, 1), out.flip(3), out)


def lr_factor(o, total):
    """The learning rate at step t as a multiple of o['lr'], the closed forms of lib/optim/schedules.ts."""
    share = o['warmupEpochs'] / o['epochs'] if o['warmupEpochs'] > 0 else o['warmupShare']
    warm = min(total, round(share * total))
    cos = lambda a, b, p: b + (a - b) / 2 * (math.cos(math.pi * p) + 1)
    if o['schedule'] == 'onecycle':  # torch OneCycleLR (cos), div_factor 25, final_div_factor 1e4
        pct = share if share > 0 else 0.3
        end1, end2 = pct * total - 1, total - 1
        def f(t):
            t = min(t, end2)
            if t <= end1:
                return cos(1 / 25, 1, 1 if end1 <= 0 else t / end1)
            return cos(1, 1 / 25 / 1e4, (t - end1) / (end2 - end1))
        return f
    def f(t):
        if t < warm:
            return (t + 1) / warm
        p = 1 if total - warm <= 0 else min(1, (t - warm) / (total - warm))
        return {'linear': 1 - p, 'cosine': cos(1, 0, p), 'constant': 1}[o['schedule']]
    return f


def evaluate(model, x, y, o, tta, amp):
    model.eval()
    correct = 0
    with torch.no_grad(), amp():
        for k in range(0, len(x), 1000):
            xb = normalized(x[k:k + 1000].float() / 255, o).contiguous(memory_format=fmt(o))
            p = F.softmax(model(xb).float(), 1)
            if tta == 'flip':
                p = (p + F.softmax(model(xb.flip(3)).float(), 1)) / 2
            correct += (p.argmax(1) == y[k:k + 1000]).sum().item()
    model.train()
    return correct / len(x)


def fmt(o):
    return torch.channels_last if o['precision'] == 'bf16' else torch.contiguous_format


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='the cifar-10-batches-bin folder')
    ap.add_argument('--options', required=True, help='resolved vgg-cifar TrainOptions as JSON')
    ap.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    a = ap.parse_args()
    o = json.loads(a.options)
    refuse(o)
    dev = torch.device('cuda' if (a.device == 'cuda' or (a.device == 'auto' and torch.cuda.is_available())) else 'cpu')
    if o.get('threads', 0) > 0:
        torch.set_num_threads(o['threads'])
    torch.manual_seed(o['seed'])
    gen = torch.Generator(device=dev)
    gen.manual_seed(o['seed'])
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = bool(o['tf32'])
    say({'kind': 'start', 'impl': f'pytorch {torch.__version__}', 'device': torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu', 'options': o})
    x, y = load(a.data, [f'data_batch_{i}.bin' for i in range(1, 6)], o['limit'], dev)
    xt, yt = load(a.data, ['test_batch.bin'], o['testLimit'], dev)
    model = vgg(o).to(dev).to(memory_format=fmt(o))
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]  # conv and linear weights
    rest = [p for n, p in model.named_parameters() if p.dim() <= 1]  # biases, BatchNorm
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': o['weightDecay']}, {'params': rest, 'weight_decay': 0}],
                          lr=o['lr'], momentum=o['momentum'], nesterov=o['nesterov'])
    bs = o['batchSize']
    steps_per_epoch = math.ceil(len(x) / bs)  # the last batch partial, as vgg-cifar's loader
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(o, o['epochs'] * steps_per_epoch))
    amp = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16)) if o['precision'] == 'bf16' else (lambda: torch.autocast(dev.type, enabled=False))
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    scaled = x.float() / 255
    train_seconds = 0.0
    for epoch in range(1, o['epochs'] + 1):
        sync()
        t0 = time.perf_counter()
        perm = torch.randperm(len(x), device=dev, generator=gen)
        for k in range(steps_per_epoch):
            idx = perm[k * bs:(k + 1) * bs]
            xb = scaled[idx]
            if o['augment'] and epoch <= o['epochs'] - o.get('plainEpochs', 0):
                xb = augment(xb, o['padMode'], gen)
            xb = normalized(xb, o).contiguous(memory_format=fmt(o))
            with amp():
                loss = F.cross_entropy(model(xb).float(), y[idx], label_smoothing=o['labelSmoothing'])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        sync()
        train_seconds += time.perf_counter() - t0
        say({'kind': 'epoch', 'epoch': epoch, 'trainSeconds': train_seconds, 'testAccuracy': evaluate(model, xt, yt, o, o['tta'], amp), 'tta': o['tta']})
    say({'kind': 'final', 'accuracy': {t: evaluate(model, xt, yt, o, t, amp) for t in ('none', 'flip')}})


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - reported as a protocol line, the runner shows it
        say({'kind': 'error', 'message': f'{type(e).__name__}: {e}'})
        sys.exit(1)
