#!/usr/bin/env python3
"""PyTorch side of the vgg-cifar benchmarks: the same VGG16 (the study report's, without the ReLU on
the logits; optionally with BatchNorm) in the same layout and precision, timed per training step
(forward, backward, Adam update) or per inference batch. Prints one JSON object.

Called by bench/frameworks.ts; runnable alone:
  python3 bench/pytorch/bench.py --batch 32 --threads 2 --rounds 5
"""
import argparse
import json
import platform
import statistics
import sys
import time

import torch
from torch import nn

CFG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']


def vgg16(bn: bool) -> nn.Module:
    layers, c = [], 3
    for v in CFG16:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if bn:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            c = v
    layers += [nn.Flatten(), nn.Linear(512, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--bn', action='store_true')
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--precision', choices=['fp32', 'tf32', 'bf16'], default='fp32')
    ap.add_argument('--mode', choices=['train', 'infer'], default='train')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--rounds', type=int, default=10)
    ap.add_argument('--channels-last', action='store_true')
    ap.add_argument('--compile', choices=['none', 'default', 'reduce-overhead', 'max-autotune-no-cudagraphs'], default='none',
                    help='torch.compile the model in this mode (the compile runs in the warm-up, timed apart)')
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = a.precision == 'tf32'
        torch.backends.cudnn.allow_tf32 = a.precision == 'tf32'
    model = vgg16(a.bn).to(dev)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    params = list(model.parameters())
    if a.compile != 'none':
        model = torch.compile(model, mode=None if a.compile == 'default' else a.compile)
    x = torch.rand(a.batch, 3, 32, 32, device=dev).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,), device=dev)
    opt = torch.optim.Adam(params, lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    autocast = torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=a.precision == 'bf16')

    def step() -> None:
        if a.mode == 'train':
            model.train()
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad(), autocast:
                model(x)

    def sync() -> None:
        if dev.type == 'cuda':
            torch.cuda.synchronize()

    t_warm = time.perf_counter()
    for _ in range(a.warmup):
        step()
    sync()
    warmup_seconds = time.perf_counter() - t_warm
    times = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        'framework': 'pytorch', 'version': torch.__version__, 'device': str(dev),
        'deviceName': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or platform.machine(),
        'threads': torch.get_num_threads(), 'batch': a.batch, 'bn': a.bn, 'mode': a.mode, 'precision': a.precision,
        'times': times, 'median': med, 'imagesPerSecond': a.batch / med,
        'mkldnn': torch.backends.mkldnn.is_available(), 'python': sys.version.split()[0],
        'compile': a.compile, 'warmupSeconds': warmup_seconds,
    }))


if __name__ == '__main__':
    main()
