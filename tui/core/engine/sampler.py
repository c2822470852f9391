"""llama.cpp's own sampler chain, built from a persona's `Sampling`.

Owning the chain (instead of llama-cpp-python's Python-side sampling) gives the same semantics as
llama-server, whose default order this follows (penalties, top-k, top-p, min-p, temperature, then a
seeded draw; greedy at temperature 0), and keeps per-token work in C.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import llama_cpp

from tui.core.chat.sampling import Sampling

PENALTY_LAST_N = 64
"""Tokens the repeat penalty looks back over (llama-server's default)."""


@contextmanager
def sampler_chain(s: Sampling, seed: int, n_vocab: int, history: Sequence[int]) -> Iterator[object]:
    """A chain for one reply, freed afterwards; ``history`` (the prompt's tail) primes the penalty."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    try:
        add = llama_cpp.llama_sampler_chain_add
        if s.repeat_penalty != 1.0:
            add(
                chain,
                llama_cpp.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, s.repeat_penalty, 0.0, 0.0),
            )
        if s.temperature <= 0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
        else:
            if s.top_k > 0:
                add(chain, llama_cpp.llama_sampler_init_top_k(s.top_k))
            add(chain, llama_cpp.llama_sampler_init_top_p(s.top_p, 1))
            add(chain, llama_cpp.llama_sampler_init_min_p(s.min_p, 1))
            add(chain, llama_cpp.llama_sampler_init_temp(s.temperature))
            add(chain, llama_cpp.llama_sampler_init_dist(seed))
        for token in history[-PENALTY_LAST_N:]:
            llama_cpp.llama_sampler_accept(chain, token)
        yield chain
    finally:
        llama_cpp.llama_sampler_free(chain)
