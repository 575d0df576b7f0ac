"""Where a training step of the mini world goes: ResNet-18's convolutions at 32 px, batch 32, one thread.

    python docs/measurements/conv_backward.py

For each distinct convolution of ResNet-18 at 32 px crops (the mini world's), the median milliseconds of its
forward pass, its input gradient and its weight gradient through oneDNN (what PyTorch uses on a CPU), and the
weight gradient through ATen's own kernels (`torch.backends.mkldnn.enabled = False`), then the totals over the
network's 20 convolutions. conv-backward-zen3.log holds this machine's.
"""

import statistics
import time

import torch
import torchvision

torch.set_num_threads(1)
BATCH, REPEATS = 32, 7


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def shapes() -> dict[tuple, int]:
    """(in channels, out channels, kernel, stride, padding, input side) of each convolution: how many."""
    net, found = torchvision.models.resnet18().eval(), {}

    def hook(module, inputs, _):
        key = (module.in_channels, module.out_channels, module.kernel_size[0], module.stride[0],
               module.padding[0], inputs[0].shape[-1])  # fmt: skip
        found[key] = found.get(key, 0) + 1

    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 3, 32, 32))
    return found


def timings(cin, cout, k, stride, pad, side, onednn=True) -> tuple[float, float, float]:
    torch.backends.mkldnn.enabled = onednn
    x, w = torch.randn(BATCH, cin, side, side), torch.randn(cout, cin, k, k)
    out = torch.nn.functional.conv2d(x, w, stride=stride, padding=pad)
    g = torch.randn_like(out)

    def grad(which):
        return lambda: torch.ops.aten.convolution_backward(
            g, x, w, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1, which
        )

    forward = median_ms(lambda: torch.nn.functional.conv2d(x, w, stride=stride, padding=pad))
    return forward, median_ms(grad([True, False, False])), median_ms(grad([False, True, False]))


print(f"torch {torch.__version__}, ATen capability {torch.backends.cpu.get_cpu_capability()}, one thread, "
      f"batch {BATCH}, 32 px")  # fmt: skip
print(f"{'conv (in>out, k, stride, side)':32} {'count':>5} {'forward':>8} {'input grad':>11} {'weight grad':>12} "
      f"{'weight grad, ATen':>18}")  # fmt: skip
totals = [0.0] * 4
for (cin, cout, k, stride, pad, side), count in shapes().items():
    forward, igrad, wgrad = timings(cin, cout, k, stride, pad, side)
    aten = timings(cin, cout, k, stride, pad, side, onednn=False)[2]
    for i, v in enumerate((forward, igrad, wgrad, aten)):
        totals[i] += count * v
    name = f"{cin}>{cout}, {k}x{k}, /{stride}, {side}x{side}"
    print(f"{name:32} {count:5} {forward:8.1f} {igrad:11.1f} {wgrad:12.1f} {aten:18.1f}")
print(f"{'all 20, ms per step':32} {'':5} {totals[0]:8.1f} {totals[1]:11.1f} {totals[2]:12.1f} {totals[3]:18.1f}")
