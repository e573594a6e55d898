"""The PyTorch networks of the sequential recommenders (module level, so that a fitted model
and its network can be pickled: saved with a workspace or sent back from a worker process).

Importing this module imports torch: :mod:`profiling.recommenders.sequence` imports it only
inside ``fit`` / ``explain`` / when a pickled model's network is first needed, so the app
starts without torch.
"""

from __future__ import annotations

import math
import os

# idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning made a
# training step ~10x slower (measured: 3.4 s against 0.3 s per SASRec batch). Only has an
# effect when torch is not imported yet.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
from torch import nn

from profiling.recommenders.sequence_data import N_TYPE_CODES


class _Inputs(nn.Module):
    """Item (+ event type + session start) embeddings; item 0 is padding."""

    def __init__(self, n_items: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.item = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.kind = nn.Embedding(N_TYPE_CODES, hidden, padding_idx=0)
        self.session = nn.Embedding(2, hidden)
        self.drop = nn.Dropout(dropout)

    def embed(self, items, kinds, sessions):
        return self.item(items) + self.kind(kinds) + self.session(sessions)


class GRUNet(_Inputs):
    """Item (+ event type + session start) embedding -> GRU/LSTM -> item logits."""

    def __init__(self, n_items, hidden, dropout, cell, layers, max_len) -> None:
        super().__init__(n_items, hidden, dropout)
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_items)

    def encode(self, items, kinds, sessions):
        """batch x length x hidden: the state after every step (right padding is harmless:
        a step's state depends on earlier steps only)."""
        h, _ = self.rnn(self.drop(self.embed(items, kinds, sessions)))
        return self.drop(h)

    def logits(self, h):
        return self.out(h)

    def output_layer(self):
        return self.out.weight, self.out.bias


class SASNet(_Inputs):
    """Kang & McAuley (2018): embeddings + learned positions -> causal pre-norm
    self-attention blocks -> dot product with the (shared) item embeddings."""

    def __init__(self, n_items, hidden, dropout, heads, layers, max_len) -> None:
        super().__init__(n_items, hidden, dropout)
        self.position = nn.Embedding(max_len, hidden)
        block = nn.TransformerEncoderLayer(
            hidden,
            heads,
            dim_feedforward=hidden,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.scale = math.sqrt(hidden)
        # item vectors of norm ~1: scaled by sqrt(hidden) on the way in they match the
        # positions, and as output weights they start with logits of unit spread
        # (torch's default N(0, 1) gave logits of spread ~sqrt(hidden) and a stalled start)
        with torch.no_grad():
            self.item.weight.normal_(0.0, hidden**-0.5)
            self.item.weight[0].zero_()

    def encode(self, items, kinds, sessions):
        """batch x length x hidden; every position attends to itself and earlier positions
        only (causal mask), so one pass predicts the next item at every step."""
        length = items.shape[1]
        pos = torch.arange(length, device=items.device)
        x = self.item(items) * self.scale + self.kind(kinds) + self.session(sessions)
        x = self.drop(x + self.position(pos)[None])
        # right padding + a causal mask: a real step never attends to padding
        causal = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        return self.norm(self.blocks(x, mask=causal, is_causal=True))

    def logits(self, h):
        return h @ self.item.weight[1:].T + self.bias

    def output_layer(self):
        return self.item.weight[1:], self.bias
