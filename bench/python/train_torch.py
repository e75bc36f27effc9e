"""PyTorch reference for the `train` bench: one epoch of the NC-controlled MLP (METHOD.md §2–3) with the same
architecture, initialisation rules, loss and optimiser as lib/train/trainer.ts, timed inside Python.

Usage: train_torch.py DIR CONFIG_JSON
  DIR holds x_train.npy (N×d float32), y_train.npy (N int32), x_test.npy, y_test.npy.
  CONFIG_JSON: {"widths": [784, 512, 512, 512], "classes": 5, "hidden": 2048, "batch": 256, "alpha": 0.05,
                "label_smoothing": 0.1, "lr": 1e-3, "weight_decay": 0.05, "seed": 0, "warmup_steps": 5}

The model: encoder Linear+ReLU layers (nn.Linear's default init), the frozen ETF projector as two bias-free
nn.Linear layers holding the dense matrices A = sqrt(c/(c−1))·(I_{m×n} − 1/c), c = d (the reference code's way:
O(m·n) per row, where ncod applies A in O(m + n)), F.normalize, and a classifier with Xavier-uniform weights and
zero bias. Loss: CrossEntropyLoss(label_smoothing) + α · the nearest-neighbour entropy loss of the encoder output.
Optimiser: torch.optim.AdamW(lr, weight_decay), constant rate for this one epoch.

Warm-up: `warmup_steps` batches on a copy of the model, then the initial weights are restored and a fresh
optimiser made; the timed epoch is ceil(N / batch) steps in a random order, the last batch partial.
Prints one JSON object: seconds, steps, test_acc, threads, torch.
"""
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count())


def etf(m, n, c):
    """The frozen ETF layer of shape m×n: sqrt(c/(c−1))·(I_{m×n} − 1/c), as a dense matrix."""
    return math.sqrt(c / (c - 1)) * (torch.eye(m, n) - 1.0 / c)


class NcMlp(nn.Module):
    def __init__(self, widths, classes, hidden):
        super().__init__()
        layers = []
        for inp, out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(inp, out), nn.ReLU()]
        self.encoder = nn.Sequential(*layers)
        d = widths[-1]
        self.proj1 = nn.Linear(d, hidden, bias=False)
        self.proj2 = nn.Linear(hidden, d, bias=False)
        with torch.no_grad():
            self.proj1.weight.copy_(etf(hidden, d, d))
            self.proj2.weight.copy_(etf(d, hidden, d))
        self.proj1.weight.requires_grad_(False)
        self.proj2.weight.requires_grad_(False)
        self.fc = nn.Linear(d, classes)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        e = self.encoder(x)
        z = F.normalize(self.proj2(F.relu(self.proj1(e))), dim=1, eps=1e-8)
        return e, self.fc(z)


def entropy_loss(e):
    """METHOD.md §3: nearest neighbour j(i) by cosine (diagonal excluded, j held fixed), -mean log distance."""
    e = F.normalize(e, dim=1, eps=1e-8)
    with torch.no_grad():
        dots = e @ e.t()
        dots.fill_diagonal_(-1)
        j = dots.argmax(dim=1)
    d = torch.norm(e - e[j] + 1e-8, dim=1)
    return -torch.log(d + 1e-8).mean()


def train_steps(model, optimiser, criterion, alpha, x, y, order, batch):
    model.train()
    steps = 0
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        e, logits = model(x[idx])
        loss = criterion(logits, y[idx]) + alpha * entropy_loss(e)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        steps += 1
    return steps


def main():
    data_dir, config = sys.argv[1], json.loads(sys.argv[2])
    load = lambda name: torch.from_numpy(np.load(os.path.join(data_dir, f"{name}.npy")))
    x, y = load("x_train"), load("y_train").long()
    x_test, y_test = load("x_test"), load("y_test").long()
    torch.manual_seed(config["seed"])

    model = NcMlp(config["widths"], config["classes"], config["hidden"])
    criterion = nn.CrossEntropyLoss(label_smoothing=config["label_smoothing"])
    adamw = lambda m: torch.optim.AdamW(
        [p for p in m.parameters() if p.requires_grad], lr=config["lr"], weight_decay=config["weight_decay"]
    )
    batch, alpha = config["batch"], config["alpha"]

    # Warm-up on a throwaway copy: first-call allocations and thread start-up stay out of the timing.
    scratch = copy.deepcopy(model)
    warm = torch.arange(min(len(x), config["warmup_steps"] * batch))
    train_steps(scratch, adamw(scratch), criterion, alpha, x, y, warm, batch)

    optimiser = adamw(model)
    start = time.perf_counter()
    order = torch.randperm(len(x))
    steps = train_steps(model, optimiser, criterion, alpha, x, y, order, batch)
    seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        _, logits = model(x_test)
        test_acc = float((logits.argmax(dim=1) == y_test).float().mean())
    print(json.dumps({"seconds": seconds, "steps": steps, "test_acc": test_acc,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
