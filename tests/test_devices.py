"""Device helpers never return an empty list (d2l 1.0.3's try_all_gpus does on a CPU)."""

import torch

import d2lft


def test_try_all_gpus_is_never_empty():
    devices = d2lft.try_all_gpus()
    assert devices and all(isinstance(d, torch.device) for d in devices)
    if not torch.cuda.is_available():
        assert devices[0].type in ("cpu", "mps")


def test_try_gpu_falls_back_when_the_index_does_not_exist():
    assert d2lft.try_gpu(10_000).type in ("cpu", "mps")
    assert torch.zeros(1, device=d2lft.try_gpu()).device.type == d2lft.try_gpu().type
