"""PyTorch integration: a batch sampler served by recency-sampler, and a dataset wrapper that
returns each sample's index so the loop can report on it."""
from typing import Any, Dict, Iterator, List, Optional

import torch
import torch.distributed as dist
from torch.utils.data import Dataset, Sampler

from .client import SamplerClient
from .stream import BatchStream


class IndexedDataset(Dataset):
    """Wraps a map-style dataset so that item i is ``(i, *dataset[i])``."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        item = self.dataset[index]
        return (index, *item) if isinstance(item, tuple) else (index, item)


class RecencyBatchSampler(Sampler[List[int]]):
    """A ``batch_sampler`` for ``DataLoader`` whose batches come from the service.

    ``batch_size`` is the global batch size; each rank gets its share. ``rank`` and
    ``world_size`` default to torch.distributed's when it is initialised. ``len()`` is this
    rank's steps per epoch. Call ``report(indices, outputs)`` after each forward pass.
    """

    def __init__(self, client: SamplerClient, *, name: str, dataset_size: int, num_classes: int, batch_size: int,
                 epochs: int, window: Optional[int] = None, warmup_epochs: Optional[int] = None,
                 initial_pressure: Optional[float] = None, seed: int = 0, strategy: str = "recency_bias",
                 drop_last: bool = False, rank: Optional[int] = None, world_size: Optional[int] = None,
                 prefetch: int = 16, active_bias_epsilon: Optional[float] = None, active_bias_mode: str = "sample"):
        super().__init__()
        distributed = dist.is_available() and dist.is_initialized()
        if world_size is None:
            world_size = dist.get_world_size() if distributed else 1
        if rank is None:
            rank = dist.get_rank() if distributed else 0
        self.stream = BatchStream(
            client, name, dataset_size=dataset_size, num_classes=num_classes, batch_size=batch_size, epochs=epochs,
            window=window, warmup_epochs=warmup_epochs, initial_pressure=initial_pressure, seed=seed,
            strategy=strategy, drop_last=drop_last, rank=rank, world_size=world_size, prefetch=prefetch,
            active_bias_epsilon=active_bias_epsilon, active_bias_mode=active_bias_mode)
        if distributed and world_size > 1:
            # Every rank's reports of the last epoch are in before any rank asks for the next.
            self.stream.before_epoch = dist.barrier

    @property
    def rank(self) -> int:
        return self.stream.rank

    @property
    def world_size(self) -> int:
        return self.stream.world_size

    @property
    def epoch(self) -> int:
        return self.stream.epoch

    def __len__(self) -> int:
        return len(self.stream)

    def __iter__(self) -> Iterator[List[int]]:
        return iter(self.stream)

    def set_epoch(self, epoch: int) -> None:
        self.stream.set_epoch(epoch)

    def report(self, indices: Any, outputs: Any, targets: Any = None) -> None:
        """Queues the batch's predictions (logits, probabilities or labels); non-blocking. Pass
        ``targets`` (true labels) to send per-sample losses and true-class probabilities too:
        ONLINE_BATCH and ACTIVE_BIAS need them."""
        if isinstance(outputs, torch.Tensor):
            outputs = outputs.detach()
        self.stream.report(indices, outputs, targets)

    def loss_weights(self, indices: Any) -> Optional[torch.Tensor]:
        """Per-sample loss weights of the batch that held ``indices`` (Active Bias in reweight
        mode after warm-up: std_hat + eps, mean 1 over the global batch), else None::

            weights = sampler.loss_weights(indices)
            losses = F.cross_entropy(logits, y, reduction="none")
            loss = (losses * weights).mean() if weights is not None else losses.mean()
        """
        weights = self.stream.loss_weights(indices)
        return None if weights is None else torch.tensor(weights, dtype=torch.float32)

    def flush(self) -> None:
        self.stream.flush()

    def state_dict(self) -> Dict[str, Any]:
        return self.stream.state_dict()

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.stream.load_state_dict(state)

    def close(self) -> None:
        self.stream.close()
