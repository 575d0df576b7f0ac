"""Making the course's training fast, which a student need not read to learn fine-tuning: `decoded` (images
decoded once, augmented a batch at a time on the device: what the fast path, `d2lft.train_fast`, trains from)
and `distributed` (DDP, one process per device under `torchrun`)."""
