# PyTorch side of test/pytorch/parity.mjs (see there). Reads safetensors with json + numpy, per the spec.
import sys
import json, struct, numpy as np, torch
from torch import nn
torch.set_num_threads(2)
D = sys.argv[1] if len(sys.argv) > 1 else '/tmp/vgg-parity'
def load(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8+n]); base = 8+n; out = {}
    dt = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}
    for k, e in h.items():
        if k == '__metadata__': continue
        s, t = e['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(b[base+s:base+t], dtype=dt[e['dtype']]).reshape(e['shape']).copy())
    return out
def vgg16(bn):
    L = []; c = 3
    for v in [64,64,'M',128,128,'M',256,256,256,'M',512,512,512,'M',512,512,512,'M']:
        if v == 'M': L.append(nn.MaxPool2d(2, 2)); continue
        L.append(nn.Conv2d(c, v, 3, padding=1))
        if bn: L.append(nn.BatchNorm2d(v))
        L.append(nn.ReLU()); c = v
    L += [nn.Flatten(), nn.Linear(512,100), nn.ReLU(), nn.Linear(100,100), nn.ReLU(), nn.Linear(100,10)]
    class VGG16(nn.Module):
        def __init__(self):
            super().__init__(); self.net = nn.Sequential(*L)
        def forward(self, x): return self.net(x)
    return VGG16()
for kind in ['adam', 'adagrad', 'sgd']:
    m = vgg16(kind == 'sgd')
    m.load_state_dict(load(f'{D}/{kind}-init.safetensors'))  # strict
    io = load(f'{D}/{kind}-io.safetensors')
    opt = {'adam': lambda p: torch.optim.Adam(p, lr=1e-4), 'adagrad': lambda p: torch.optim.Adagrad(p, lr=1e-4),
           'sgd': lambda p: torch.optim.SGD(p, lr=0.005, momentum=0.9)}[kind](m.parameters())
    m.train(); losses = []
    for s in range(3):
        lg = m(io['x'])
        if s == 0:
            d = (lg - io['logits0']).abs().max().item() / io['logits0'].abs().max().item()
            print(kind, 'logits rel err', d)
        loss = nn.functional.cross_entropy(lg, io['labels'].long())
        losses.append(loss.item()); opt.zero_grad(); loss.backward(); opt.step()
    print(kind, 'losses torch', losses, 'ours', io['losses'].tolist())
    after = load(f'{D}/{kind}-after.safetensors'); sd = m.state_dict(); worst = 0
    for k, t in sd.items():
        if t.dtype != torch.float32: 
            print(kind, k, 'torch', t.item(), 'ours', after[k].item()) if 'num_batches' in k and k.startswith('net.1.') else None; continue
        worst = max(worst, ((t - after[k]).abs().max() / t.abs().max().clamp(min=1e-12)).item())
    print(kind, 'weights after 3 steps: worst rel err', worst)
    errs = sorted(((((t - after[k]).abs().max() / t.abs().max().clamp(min=1e-12)).item(), k) for k, t in sd.items() if t.dtype == torch.float32), reverse=True)
    print(kind, 'worst tensors', [(k, '%.2e' % e) for e, k in errs[:4]], 'median', '%.2e' % errs[len(errs)//2][0])

# The other direction: a PyTorch state dict (with BN's int64 num_batches_tracked) saved as safetensors
# loads in vgg-cifar (`node test/pytorch/parity.mjs DIR --from-torch` checks the eval logits).
def save(path, tensors):
    header, blobs, pos = {'__metadata__': {'format': 'pt'}}, [], 0
    names = {torch.float32: 'F32', torch.int64: 'I64'}
    for k, t in tensors.items():
        b = t.detach().contiguous().numpy().tobytes()
        header[k] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [pos, pos + len(b)]}
        blobs.append(b); pos += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f: f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
torch.manual_seed(0)
m = vgg16(True); m.train(); m(torch.rand(8, 3, 32, 32)); m.eval()  # non-trivial running stats
x = torch.rand(2, 3, 32, 32)
save(f'{D}/torch-sd.safetensors', m.state_dict())
save(f'{D}/torch-io.safetensors', {'x': x, 'logits': m(x)})
print('wrote', f'{D}/torch-sd.safetensors')
