"""Data-parallel training on CPU with two (or more) ranks sharing one served sampler:

    torchrun --nproc_per_node 2 examples/distributed.py --target 127.0.0.1:50051 --epochs 2

Each rank trains on its share of every global batch (DistributedDataParallel, gloo) and reports
its own predictions; the sampler takes rank and world size from torch.distributed. In its
default fan-out mode only rank 0 calls the service: it broadcasts each chunk of global batches
to the ranks and sends their gathered predictions in bulk (pass mode="per_rank" to have every
rank call the service itself).
"""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

import fashion_mnist
from recency_sampler import IndexedDataset, RecencyBatchSampler, SamplerClient


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True, help="service address host:port")
    p.add_argument("--name", default="fmnist-ddp")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128, help="global batch size, split among the ranks")
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DATA)
    args = p.parse_args()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // world))
    train_set, test = fashion_mnist.load(args.data_dir, args.limit_train)
    model = DistributedDataParallel(fashion_mnist.SmallCNN())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    with SamplerClient(args.target) as client:
        sampler = RecencyBatchSampler(client, name=args.name, dataset_size=len(train_set), num_classes=10,
                                      batch_size=args.batch_size, epochs=args.epochs,
                                      warmup_epochs=max(1, args.epochs // 2))
        loader = DataLoader(IndexedDataset(train_set), batch_sampler=sampler)
        for epoch in range(args.epochs):
            sampler.set_epoch(epoch)
            seen = 0
            for indices, x, y in loader:
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                sampler.report(indices, logits)
                seen += len(indices)
            sampler.flush()
            if rank == 0:
                error = fashion_mnist.evaluate(model.module, test)
                print(f"epoch {epoch}: rank 0 trained on {seen} samples of {len(sampler)} steps, test error {error:.4f}",
                      flush=True)
        sampler.close()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
