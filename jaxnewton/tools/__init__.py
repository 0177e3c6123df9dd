"""Landscape tools: pure functions of flat parameter vectors that the studies jit and vmap.

- ``landscapes``: the known-answer landscapes (E1 unit circle, E2 elliptic torus, toy saddles).
- ``paths``: FourierPathFinder between two solutions, barrier heights, the Newton saddle check at a top.
- ``symmetry``: an MLP's permutation and sign-flip symmetries, a canonical form, a distance modulo them.
- ``kpca``: kernel PCA of a set of solutions.
"""
