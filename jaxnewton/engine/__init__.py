"""The engine: configs, the per-seed loop, the batched sweep, results folders, and building runs.

- ``config``: ``ConfigBase``, the seed-sweep ``Config``, ``override``, ``load_config``, ``Run``.
- ``loop``: the optimisation loop for one seed as pure init / step / terminate, with per-seed statuses.
- ``sweep``: jit(shard_map(chunks of vmap)) over seeds, compaction, checkpoints: the one place that jits a sweep.
- ``build``: a ``Config`` turned into its problem, loop and diagnostics; θ₀ per seed; checkpointed batches.
- ``outcomes``: the one classification of where a seed ended.
- ``io``: atomic and strict-JSON writers, row-block writers, checkpoint folders, run metadata.
- ``folders``: one run per results folder: the lock, the claim, the manifest that proves a run complete.
"""
