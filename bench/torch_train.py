"""PyTorch reference for ann-train's speed: the same 3-layer MLP (d -> 512 -> 512 -> K, ReLU),
softmax cross-entropy, Adam, batch 1024, Gaussian noise on the inputs, on the CPU threads given.
Prints samples per second of the training loop (forward, backward, step), for comparison only."""
import sys, time
import numpy as np
import torch

def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    n, d, k, h, batch, epochs = 204800, 128, 1024, 512, 1024, 3
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.integers(0, 128, size=(n, d)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, k, size=n).astype(np.int64))
    net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU(), torch.nn.Linear(h, k))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    rates = []
    for e in range(epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = x[idx]
            xb = xb + 0.05 * 30 * torch.randn_like(xb)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), y[idx])
            loss.backward()
            opt.step()
        rates.append(n / (time.perf_counter() - t0))
    print(f"pytorch {torch.__version__}, {threads} threads: {max(rates[1:]):.0f} samples/s (best epoch after the first)")

main()
