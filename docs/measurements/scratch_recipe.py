"""A scratch ResNet-18 with a recipe of its own, in the mini world.

    python docs/measurements/scratch_recipe.py LR EPOCHS SEED [sgd|adam]

SGD with Nesterov momentum 0.9 and weight decay 5e-4 (or AdamW, weight decay 0.05), a one-cycle schedule, a
mean loss, batches of 32, one thread, on four fifths of the training images; prints the training and validation
accuracy after every epoch, then one JSON line (scratch-recipe-zen3.log holds this machine's).
"""

import json
import sys
import time

import torch
import torchvision
from torch import nn

import d2lft
from d2lft.decoded import load_data_hotdog_decoded
from d2lft.metrics import evaluate_accuracy

torch.set_num_threads(1)
lr, epochs, seed = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
optimizer = sys.argv[4] if len(sys.argv) > 4 else "sgd"
world = d2lft.get_world("mini")
torch.manual_seed(seed)
net = torchvision.models.resnet18(num_classes=2)
train_iter, val_iter = load_data_hotdog_decoded(32, world, validation=True)
if optimizer == "adam":
    trainer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.05)
else:
    trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
schedule = torch.optim.lr_scheduler.OneCycleLR(trainer, max_lr=lr, total_steps=epochs * len(train_iter), pct_start=0.25)
loss = nn.CrossEntropyLoss()
start, accuracies = time.perf_counter(), []
for epoch in range(epochs):
    net.train()
    correct = seen = 0
    for X, y in train_iter:
        trainer.zero_grad()
        out = net(X)
        loss(out, y).backward()
        trainer.step()
        schedule.step()
        correct, seen = correct + (out.argmax(1) == y).sum().item(), seen + len(y)
    accuracies.append(round(evaluate_accuracy(net, val_iter), 3))
    print(epoch, round(correct / seen, 3), accuracies[-1], flush=True)
seconds = round(time.perf_counter() - start)
print(json.dumps({"lr": lr, "epochs": epochs, "seed": seed, "opt": optimizer, "val": accuracies, "s": seconds}))
