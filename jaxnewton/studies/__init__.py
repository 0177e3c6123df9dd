"""The studies: one module per study, each owning its config dataclass, its ``run``, its figures, its report
rows and its ``make paper`` runs. ``registry`` lists them and maps a config to the study that runs it.

- ``basins``: E1, E2, stationary points of known-answer landscapes and each method's basins.
- ``seeds``: a seed sweep of a network (E3–E6; each optimiser of a comparison).
- ``settings``: a grid of readings of the paper's unstated settings, one seed sweep per cell (E3).
- ``compare``: several optimisers from the same initial points (E7, E9).
- ``mechanism``: curvature pairs and the true Hessian along quasi-Newton runs (read by E9's row).
- ``phase_map``: damped Newton over (η, ε) and over width.
- ``paths_toy``: FourierPathFinder on the companion paper's 2-D toy.
- ``digits``: the companion paper's L-BFGS-GSS vs SGD study on the 8×8 digits.
- ``landscape``: paths, saddle checks, symmetry and kernel PCA on E3's end points.
- ``saddles``: gradient descent and Newton on toy saddles.
- ``random_hessians``: E8, definiteness of random symmetric matrices.
- ``index_loss``: index against loss over every stationary point the other runs found.

A study module defines ``CONFIG`` (its config dataclass), ``run(config, out, log, progress)``, ``ROWS``
(``report.table.Row``), ``RUNS`` (``engine.config.Run``) and, where two studies share a config type,
``selects(config)``; optionally ``check(config)``, which refuses (ValueError) a config that cannot run (a size
that cannot fit in memory) before its folder is touched. ``run`` writes its results and ``summary.json``;
``engine.folders.run_in_folder`` locks and claims the folder before it and writes ``config.json`` and
``manifest.json`` after it.
"""
