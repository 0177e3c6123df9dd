"""Optimisers as pure ``init`` / ``update`` pairs over a flat θ, one module per family, and their registry.

- ``base``: the ``Solver`` interface and the optax and periodic-angle adapters.
- ``newton``: damped Newton (the paper's), saddle-free Newton, pseudo-inverse Newton.
- ``quasi_newton``: BFGS, L-BFGS, L-BFGS-GSS, the fixed-step BFGS ablation, BFGS from / reset to the exact
  Hessian, the curvature-pair record.
- ``globalised``: Gauss–Newton, Levenberg–Marquardt, trust-region Newton, cubic regularisation, SR1, and the
  paper's step with a line search or made monotone.
- ``first_order``: gradient descent and ADAM.
- ``registry``: one entry per optimiser name; everything else reads its names and flags from there.
"""
