# How far PyTorch's CPU bf16 autocast moves the gradients of a small VGG11 (width/8, the network of
# test/nn/precision.test.ts) from fp32: the calibration behind that test's bounds.
# Usage: python3 test/pytorch/bf16-autocast.py  (prints L2-relative gradient differences per parameter)
import torch, torch.nn as nn
torch.manual_seed(0); torch.set_num_threads(2)
def vgg11(bn):
    L=[]; c=3
    for v in [8,'M',16,'M',32,32,'M',64,64,'M',64,64,'M']:
        if v=='M': L.append(nn.MaxPool2d(2,2)); continue
        L.append(nn.Conv2d(c,v,3,padding=1))
        if bn: L.append(nn.BatchNorm2d(v))
        L.append(nn.ReLU()); c=v
    L+=[nn.Flatten(), nn.Linear(64,32), nn.ReLU(), nn.Linear(32,32), nn.ReLU(), nn.Linear(32,10)]
    m=nn.Sequential(*L)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d): nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu'); nn.init.zeros_(mod.bias)
    return m
for bn in [True, False]:
  for N in [8,32]:
    m=vgg11(bn); x=torch.rand(N,3,32,32)*2-1; y=torch.randint(0,10,(N,))
    def grads(autocast):
        m.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            out=m(x)
        loss=nn.functional.cross_entropy(out.float(), y); loss.backward()
        return out.float().detach(), [p.grad.clone() for p in m.parameters()]
    l32,g32=grads(False); l16,g16=grads(True)
    names=[n for n,_ in m.named_parameters()]
    rel=lambda a,b: ((a-b).norm()/b.norm()).item()
    print(f"bn={bn} N={N} logits(max) {((l16-l32).abs().max()/l32.abs().max()).item():.2e}", ' '.join(f"{n}:{rel(a,b):.1e}" for n,a,b in zip(names,g16,g32) if b.abs().max()>1e-4))
