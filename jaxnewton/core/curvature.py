"""The exact Hessian of an MLP least-squares loss, assembled from small dense products.

``jax.hessian`` (forward-over-reverse) pushes P one-hot tangents through the network.
On the paper's networks (width 10, P = 140, Q = 100 nodes) its intermediates are
P × Q × width tensors fed to width × width matrix products: tens of MB of memory
traffic per Hessian for about 25 MFLOP of arithmetic, most of it multiplying zeros
(a tangent along a layer-2 weight is zero in layer 1). Here the same Hessian is written
as the sum of each elementary operation's second-order contribution (the second-order
adjoint, e.g. Griewank & Walther, *Evaluating Derivatives*, ch. 4):

    ∇²L = Σ_q 2 w_q J_qᵀ J_q                                    (Gauss–Newton part)
        + Σ_q c_q ∇²N_q,   c_q = 2 w_q (N_q − v_q)               (residual part),

    Σ_q c_q ∇²N_q = Σ_l Σ_q G_lqᵀ diag(ā_lq ⊙ σ''(z_lq)) G_lq    (each activation a_l = σ(z_l))
                  + Σ_{l≥2} Σ_q [A_{l−1,q}ᵀ E_lq + E_lqᵀ A_{l−1,q}]  (each product z_l = a_{l−1} W_l)
                  + Σ_q c_q [A_Lqᵀ e_o + e_oᵀ A_Lq]              (the read-out N = a_L · θᴼ),

with z_l the pre-activations, G_l = ∂z_l/∂θ, A_l = ∂a_l/∂θ, ā_l the c-weighted adjoint
of a_l, and E_l the adjoint of z_l placed on W_l's entries. The parameters of layer l
enter z_l through the Kronecker product ã_{l−1} ⊗ I (ã = [1, a]), so every block that
involves Θ_l = [W_l; b_l] is a contraction over the nodes of small per-node factors
instead of a product with P × P zeros. Nothing is approximated: tests compare with
``jax.hessian`` to 1e-12 relative.

H is assembled once from its blocks over (Θ_1, …, Θ_L, θᴼ), in a layer-major layout (Θ_l = [b_l; W_l]
row-major), which is the order of ``ravel_pytree`` for ``make_mlp``'s parameters, so no permutation is
needed. Each diagonal block (Θ_l, Θ_l) collects every term of that form, Σ_q ã ãᵀ ⊗ V_q (Gauss–Newton,
layer l's activation term and layer l+1's through z_{l+1}), and only the symmetric pairs of ã ãᵀ and V_q
are multiplied (``_symmetric_kronecker_sum``), so those blocks are symmetric to the last bit; each block above
the diagonal is mirrored below it.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

Activation = Callable[[jax.Array], jax.Array]


def hessian_vector_product(loss: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """(θ, v) ↦ ∇²L(θ) v, exact, by forward-over-reverse differentiation (never forms ∇²L): the product the
    Krylov solvers (``optim.newton``) and the large-P spectra (``core.spectra``, ``core.diagnostics``) use."""
    return lambda theta, v: jax.jvp(jax.grad(loss), (theta,), (v,))[1]


def activation_derivatives(activation: Activation, z: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """σ(z), σ'(z), σ''(z) of an elementwise activation, by forward mode (exact for any σ)."""
    ones = jnp.ones_like(z)

    def first(u):
        return jax.jvp(activation, (u,), (ones,))

    (a, s), (_, t) = jax.jvp(first, (z,), (ones,))
    return a, s, t


def computed_once(fn: Callable[..., Any], *args: jax.Array) -> Any:
    """``fn(*args)``, evaluated once and kept in memory for every later use.

    XLA counts sin and cos as cheap elementwise operations and recomputes them inside every fusion that reads them:
    in a SIREN Hessian the activation's sin and cos were evaluated 18 times over, which made it 2.9× slower. XLA
    does not fuse across a loop whose trip count it cannot know when it compiles, so ``fn`` runs in one: one trip
    (two when the first input is NaN, with the same result). The values are those of ``fn(*args)`` bit for bit.
    Forward-mode only (JAX cannot reverse-differentiate such a loop): for code nothing takes ``jax.grad`` of.
    """
    def body(carry):
        return carry[0] + 1, fn(*args)

    trips = 1 + jnp.isnan(jnp.ravel(args[0])[0]).astype(jnp.int32)
    init = (jnp.zeros((), jnp.int32), jax.tree.map(jnp.zeros_like, jax.eval_shape(fn, *args)))
    return jax.lax.while_loop(lambda carry: carry[0] < trips, body, init)[1]


def _expand_diagonal(x: jax.Array, axes: tuple[int, ...]) -> jax.Array:
    """A Kronecker δ from a repeated index: ``axes[k]`` is the axis of x indexing output axis k.

    An axis of x named twice becomes a diagonal, e.g. ``axes=(0, 1, 2, 1)`` maps X_ijk to
    Y_ijkm = X_ijk δ_jm.
    """
    letters = "abcdefghijkl"
    subscripts, operands, out = [letters[: x.ndim]], [x], ""
    for k, axis in enumerate(axes):
        if letters[axis] in out:
            fresh = letters[x.ndim + k]
            subscripts.append(letters[axis] + fresh)
            operands.append(jnp.eye(x.shape[axis], dtype=x.dtype))
            out += fresh
        else:
            out += letters[axis]
    return jnp.einsum(f"{','.join(subscripts)}->{out}", *operands)


def _add_block(matrix: jax.Array, block: jax.Array, row: int, col: int) -> jax.Array:
    """``matrix`` with ``block`` added at (row, col) by a dynamic update slice, which XLA does in place (``.at[].add``
    lowers to a scatter: measured 1.45× slower for a 100 × 100 block of a chunk of 140 × 140 matrices, even at 330)."""
    rows, cols = block.shape
    return jax.lax.dynamic_update_slice(matrix, matrix[row:row + rows, col:col + cols] + block, (row, col))


def _symmetric_kronecker_sum(a_FxQ: jax.Array, v_VxQ: jax.Array, width: int, input_layer: bool = False) -> jax.Array:
    """Σ_q (a_q a_qᵀ) ⊗ V_q for symmetric ``width`` × ``width`` matrices V_q given by their pairs j ≤ m
    (``np.triu_indices(width)`` order, V = width (width + 1) / 2 of them), the node axis q last.

    Row (i, j), column (k, m) in row-major order. Only the pairs i ≤ k of a aᵀ and j ≤ m of V are multiplied (one
    product over the nodes, F(F+1)/2 × V entries: 3.3× fewer than (F · width)² for F = 11, width = 10), and the full
    block is gathered from them, so the result is exactly symmetric. ``input_layer``: a is [1, x], which a vmapped
    chunk's seeds share unless the inputs are drawn per seed (E5's Fourier features); XLA then folds the seeds into
    V's side of the product, and V as its left operand keeps its layout (the other order transposes V first: E3's
    Hessian 0.080 against 0.064 ms a seed; E5's 0.34 either way).

    The block is gathered from the pairs by one index over all its (F · width)² entries while that index is at most
    ``ONE_INDEX_MAX`` entries (E3's Hessian 0.130 ms a seed, against 0.141 by the two tables, one core); beyond,
    by the two pair tables in turn (rows of a aᵀ, then of V) and one transpose, whose index arrays hold F² + width²
    entries: the one index grows as the block does (969 GiB at width 600, built before anything ran). Either way
    the values are the same bits.
    """
    n_f = a_FxQ.shape[0]
    i, k = np.triu_indices(n_f)
    outer_PxQ = a_FxQ[i] * a_FxQ[k]
    pairs = (v_VxQ @ outer_PxQ.T).T if input_layer else outer_PxQ @ v_VxQ.T
    if (n_f * width) ** 2 <= ONE_INDEX_MAX:
        index = _pair_index(n_f)[:, None, :, None] * v_VxQ.shape[0] + _pair_index(width)[None, :, None, :]
        return pairs.reshape(-1)[index.reshape(-1)].reshape(n_f * width, n_f * width)
    full_FxFxWxW = pairs[_pair_index(n_f)][:, :, _pair_index(width)]
    return jnp.swapaxes(full_FxFxWxW, 1, 2).reshape(n_f * width, n_f * width)


ONE_INDEX_MAX = 1 << 22  # entries (32 MiB of int64) of the one-index gather in _symmetric_kronecker_sum


def _pair_index(n: int) -> np.ndarray:
    """The position of the pair (min(i, k), max(i, k)) in ``np.triu_indices(n)``, as an n × n table."""
    table = np.zeros((n, n), dtype=np.int64)
    table[np.triu_indices(n)] = np.arange(n * (n + 1) // 2)
    return np.maximum(table, table.T)


def _layout_permutation(params: Any) -> np.ndarray:
    """Index of each ``ravel_pytree`` position in the layer-major layout (Θ_l = [b_l; W_l], then θᴼ).

    For ``make_mlp``'s pytree this is the identity (its leaves sort as b before w, hidden before out), which
    ``make_mlp_least_squares_hessian`` checks.
    """
    offset = 0
    hidden = []
    for layer in params["hidden"]:
        fan_in, fan_out = layer["w"].shape
        block = offset + np.arange((fan_in + 1) * fan_out).reshape(fan_in + 1, fan_out)
        hidden.append({"b": block[0], "w": block[1:]})
        offset += block.size
    tree = {"hidden": hidden, "out": offset + np.arange(params["out"].size)}
    # jax.tree.leaves walks the pytree in the same order as ravel_pytree.
    return np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(tree)])


def _require_layer_major(template: Any) -> int:
    """The parameter count of ``template``; a ValueError unless it ravels in the layer-major layout (``make_mlp``'s)."""
    perm = _layout_permutation(template)
    if not np.array_equal(perm, np.arange(perm.size)):
        raise ValueError("the structured Hessian needs make_mlp's parameters ({'hidden': [{'b', 'w'}, …], 'out'}), "
                         "which ravel in its layer-major layout; use hessian='autodiff'")
    return perm.size


def make_mlp_least_squares_hessian(
    activation: Activation,
    x_QxD: jax.Array,
    target_Q: jax.Array,
    weights_Q: jax.Array,
    unravel: Callable[[jax.Array], Any],
    template: Any,
) -> Callable[[jax.Array], jax.Array]:
    """Build ``hessian(theta_P) -> H_PxP`` of L(θ) = Σ_q w_q (N_q(θ) − v_q)² for an MLP.

    The network must be the one of ``core.models.make_mlp``: hidden layers
    a_l = σ(a_{l−1} W_l + b_l) with a_0 = x, and a bias-free read-out N = a_L · θᴼ. With m outputs (targets
    ``v_QxM``, read-out ``θᴼ_KxM``) L = Σ_j L_j, L_j the one-output loss of column j: its Hessian is the sum of the m
    one-output Hessians on the hidden parameters, each one's own (hidden, θᴼ_j) and (θᴼ_j, θᴼ_j) blocks, and zero
    between two outputs' read-outs (``_outputs_hessian``). The diagonal blocks' Kronecker sums are taken once (of V_q
    summed over the outputs); the blocks between layers still cost m times one output's (``docs/performance.md``).

    Args:
      activation: σ, elementwise.
      x_QxD: nodes.
      target_Q: v at the nodes, ``v_Q`` (or ``v_MxQ`` for m outputs, node axis last as ``core.problems``).
      weights_Q: quadrature weights w_q.
      unravel: flat θ → parameter pytree ``{"hidden": [{"w", "b"}, …], "out"}``.
      template: a parameter pytree of the right shapes (fixes the layout).

    Returns:
      A pure function of θ_P; the result equals ``jax.hessian(loss)(θ)`` to rounding.
    """
    _require_layer_major(template)

    def hessian(theta: jax.Array) -> jax.Array:
        params = unravel(theta)
        layers = params["hidden"]
        if target_Q.ndim == 1:
            return assemble(layers, *one_output(layers, params["out"], target_Q))
        # Every term is a sum over the outputs j. The diagonal blocks Σ_q ã ãᵀ ⊗ V_q, the largest, are linear in V_q:
        # V_q is summed over j first, so their Kronecker sums cost what one output's do. The other hidden blocks are
        # summed after; the read-out's column and diagonal block stay per output (``_outputs_hessian``).
        aug, v, upper, readout_diagonal, leading = jax.vmap(one_output, in_axes=(None, 1, 0))(
            layers, params["out"], target_Q)
        hidden = assemble(layers, [a[0] for a in aug], [jnp.sum(x, axis=0) for x in v],
                          [None] + [jnp.sum(u, axis=0) for u in upper[1:-1]], None,
                          [jnp.sum(b, axis=0) for b in leading])
        return _outputs_hessian(hidden, upper[-1], readout_diagonal)

    def assemble(layers: Any, aug: list, v: list, upper: list, readout_diagonal: jax.Array | None,
                 leading: list) -> jax.Array:
        """H from the diagonal blocks' V_q (Kronecker-summed here), the columns above the diagonal (``upper``), the
        read-out's diagonal block and the leading blocks of deeper networks; without the read-out (None): the
        hidden block alone."""
        n_layers = len(layers)
        diagonal = [_symmetric_kronecker_sum(aug[l], v[l], layers[l]["b"].shape[0], input_layer=l == 0)
                    for l in range(n_layers)]
        if readout_diagonal is not None:
            diagonal.append(readout_diagonal)
        starts = np.cumsum([0] + [block.shape[0] for block in diagonal])
        rows = []
        for block in range(len(diagonal)):
            lo, hi = starts[block], starts[block + 1]
            left = [upper[block].T] if block else []
            right = [upper[later][lo:hi] for later in range(block + 1, len(diagonal))]
            rows.append(jnp.concatenate([*left, diagonal[block], *right], axis=1))
        hess = jnp.concatenate(rows, axis=0)
        for block in leading:
            hess = _add_block(hess, block, 0, 0)
        return hess

    def one_output(layers: Any, out_K: jax.Array, target_Q: jax.Array) -> tuple[list, list, list, jax.Array, list]:
        """One output's parts of H: ã per layer, the diagonal blocks' V_q, the columns above the diagonal (the
        read-out's last), the read-out's diagonal block and the leading blocks."""
        dtype = out_K.dtype
        n_q = x_QxD.shape[0]
        # Every per-node array has the node axis q last ("XxQ"): each product over the nodes is then A Bᵀ with both
        # operands contiguous in q, which XLA CPU runs 1.6–2× faster than Aᵀ B on the same numbers (measured for
        # E3's blocks, 16 seeds vmapped, one core), and no operand is transposed first.
        ones_1xQ = jnp.ones((1, n_q), dtype)

        # Forward pass: augmented inputs ã_{l−1}, σ'(z_l), σ''(z_l).
        a = x_QxD.T
        aug, slope, curv = [], [], []
        for layer in layers:
            aug.append(jnp.concatenate([ones_1xQ, a], axis=0))
            a, s, t = computed_once(partial(activation_derivatives, activation), layer["w"].T @ a + layer["b"][:, None])
            slope.append(s)
            curv.append(t)
        residual_Q = out_K @ a - target_Q
        c_Q = 2.0 * weights_Q * residual_Q

        # Backward pass: δ_l = ∂N_q/∂z_l per node; the c-weighted adjoints are c_q δ_l.
        n_layers = len(layers)
        grad_a = [None] * n_layers  # ∂N_q/∂a_l
        delta = [None] * n_layers
        grad_a[-1] = jnp.broadcast_to(out_K[:, None], (out_K.size, n_q))
        for l in range(n_layers - 1, -1, -1):
            delta[l] = grad_a[l] * slope[l]
            if l > 0:
                grad_a[l - 1] = layers[l]["w"] @ delta[l]
        d = [c_Q * grad_a[l] * curv[l] for l in range(n_layers)]  # ā_l ⊙ σ''(z_l)
        two_w_Q = 2.0 * weights_Q

        def kron_rows(left_IxQ: jax.Array, right_JxQ: jax.Array) -> jax.Array:
            """Per node, the Kronecker product of two columns: row (i, j) is left_i ⊙ right_j."""
            return (left_IxQ[:, None, :] * right_JxQ[None, :, :]).reshape(-1, n_q)

        # H is assembled once from its blocks over (Θ_1, …, Θ_L, θᴼ): the diagonal blocks, and each block's column above
        # the diagonal ("upper", rows θ_{<l}), mirrored below it. Gauss–Newton part from the per-node Jacobian J_PxQ.
        jac = [kron_rows(aug[l], delta[l]) for l in range(n_layers)]
        sizes = [j.shape[0] for j in jac] + [out_K.size]
        starts = np.cumsum([0] + sizes)
        weighted_jac = jnp.concatenate(jac, axis=0) * two_w_Q  # 2w_q J, rows θ_{≤L}
        upper = [None] + [weighted_jac[:starts[l]] @ jac[l].T for l in range(1, n_layers)]
        readout_column = weighted_jac @ a.T  # (θ_{≤L}, θᴼ), GN only
        readout_diagonal = (a * two_w_Q) @ a.T
        leading = []  # (θ_{<l−1}, θ_{<l−1}) blocks of deeper networks, added after assembly

        # Diagonal blocks (Θ_l, Θ_l): Σ_q ã ãᵀ ⊗ V_q with V_q = 2w_q δ δᵀ (Gauss–Newton) + diag(d_q) (activation term)
        # + K_q (layer l+1's activation term through z_{l+1} = a_l W_{l+1}: K_q = (σ' ⊙ W) diag(d_{l+1}) (σ' ⊙ W)ᵀ).
        # V_q is symmetric, so only its pairs j ≤ m are formed, as K_q = s_j s_m Σ_r W_jr W_mr d_r: one product.
        # (``assemble`` takes the Kronecker sums.)
        v = []
        for l in range(n_layers):
            j, m = np.triu_indices(slope[l].shape[0])
            v_VxQ = two_w_Q * delta[l][j] * delta[l][m] + jnp.where(np.equal(j, m)[:, None], d[l][j], 0.0)
            if l + 1 < n_layers:
                w_next = layers[l + 1]["w"]
                v_VxQ = v_VxQ + slope[l][j] * slope[l][m] * ((w_next[j] * w_next[m]) @ d[l + 1])
            v.append(v_VxQ)

        # The rest of the residual part, layer by layer. ∂z_l/∂θ = [g_l | ã_{l−1} ⊗ I] over θ_{≤l}, where
        # g_l = ∂z_l/∂θ_{<l} (``WxPxQ``); the Kronecker half is never materialised.
        for l in range(1, n_layers):
            width, fan = slope[l].shape[0], aug[l].shape[0]
            start = starts[l]
            if l == 1:
                g = jnp.zeros((slope[0].shape[0], 0, n_q), dtype)
            # g_l = σ'(z_{l−1}) ⊙ [g_{l−1} | ã_{l−2} ⊗ I] · W_l, the second half in closed form.
            prev_slope, prev_aug, w_l = slope[l - 1], aug[l - 1], layers[l]["w"]
            g_through = jnp.einsum("iq,ipq,ij->jpq", prev_slope, g, w_l)
            sw_IxJxQ = prev_slope[:, None, :] * w_l[:, :, None]  # σ' ⊙ W per node (deeper networks only)
            aug_slope = kron_rows(prev_aug, prev_slope)  # (ã_{l−2} ⊗ σ'_{l−1}) per node
            # Product term z_l = a_{l−1} W_l: Σ_q (∂a_{l−1}/∂θ)_ip z̄_qj on W_l's rows.
            zbar = c_Q * delta[l]
            prod_through = jnp.einsum("iq,ipq,jq->pij", prev_slope, g, zbar)
            prod_own = (aug_slope @ zbar.T).reshape(prev_aug.shape[0], prev_slope.shape[0], width)
            prod_own = _expand_diagonal(prod_own, (0, 1, 1, 2)).reshape(-1, *prod_own.shape[1:])
            product = jnp.concatenate([prod_through, prod_own], axis=0)
            product = jnp.concatenate([jnp.zeros((start, 1, width), dtype), product], axis=1)
            # Activation term on (θ_{<l}, θ_{<l}): Σ_q g_qᵀ diag(d_q) g_q. Its (Θ_{l−1}, Θ_{l−1}) block is in
            # the diagonal blocks above (K_q); the rest involves g's columns through the earlier layers.
            own_start = starts[l - 1]  # offset of Θ_{l−1}
            cross_through = jnp.zeros((0, fan, width), dtype)
            if own_start:
                dg_through = d[l][:, None, :] * g_through
                cross_through = jnp.einsum("jpq,iq->pij", dg_through, aug[l])
                leading.append(jnp.einsum("jpq,jrq->pr", dg_through, g_through))
                through_own = jnp.einsum("piq,mq->pmi", jnp.einsum("jpq,ijq->piq", dg_through, sw_IxJxQ), prev_aug)
                upper[l - 1] = upper[l - 1] + through_own.reshape(own_start, -1)
            # (θ_{<l}, Θ_l), plus the product term. On Θ_{l−1}'s own columns (m, k) g_qj is ã_qm σ'_qk W_kj, so
            # Σ_q d_qj g_qjp ã_qi = W_kj Σ_q (ã_{l−2} ⊗ σ')_q,mk (ã_l ⊗ d)_q,ij: one product, g never formed.
            # Two-operand contractions only: a three-operand einsum let XLA fold the seed axis of a vmapped
            # chunk into a product's rows, and a seed's bits then depended on its place in the chunk.
            cross_own = (aug_slope @ kron_rows(aug[l], d[l]).T).reshape(prev_aug.shape[0], prev_slope.shape[0], fan,
                                                                         width)
            cross_own = (cross_own * w_l[None, :, None, :]).reshape(-1, fan, width)
            cross = jnp.concatenate([cross_through, cross_own], axis=0) + product
            upper[l] = upper[l] + cross.reshape(start, fan * width)
            if l + 1 < n_layers:  # the next layer needs g_l = [g_through | ã_{l−2} ⊗ (σ' ⊙ W_l)] in full
                g_own = prev_aug[None, :, None, :] * jnp.swapaxes(sw_IxJxQ, 0, 1)[:, None, :, :]
                g = jnp.concatenate([g_through, g_own.reshape(width, -1, n_q)], axis=1)

        # Read-out term N = a_L · θᴼ: Σ_q c_q ∂a_Lk/∂θ, through g_L and through Θ_L (diagonal in k).
        cs_KxQ = c_Q * slope[-1]
        through_last = []
        if n_layers > 1:  # g_L's columns: through the earlier layers, then Θ_{L−1}'s own (in factored form)
            # Σ_q ã_qm (σ' ⊙ W)_qik cs_qk = W_ik Σ_q (ã_qm σ'_qi) cs_qk: one product.
            own_last = kron_rows(aug[-2], slope[-2]) @ cs_KxQ.T
            own_last = own_last.reshape(aug[-2].shape[0], -1, cs_KxQ.shape[0]) * layers[-1]["w"]
            through_last = [jnp.einsum("kq,kpq->pk", cs_KxQ, g_through), own_last.reshape(-1, cs_KxQ.shape[0])]
        readout = jnp.concatenate([
            *through_last,
            _expand_diagonal(aug[-1] @ cs_KxQ.T, (0, 1, 1)).reshape(-1, slope[-1].shape[0]),
        ], axis=0)
        upper.append(readout_column + readout)
        return aug, v, upper, readout_diagonal, leading

    return hessian


def _outputs_hessian(hidden: jax.Array, cross_MxHxK: jax.Array, readout_MxKxK: jax.Array) -> jax.Array:
    """The Hessian over (θᴴ, θᴼ_KxM raveled row-major) from the hidden block (summed over the outputs) and each
    output's read-out column (θᴴ, θᴼ_j) and block (θᴼ_j, θᴼ_j): block-diagonal in j on the read-out."""
    m, n_hidden, k = cross_MxHxK.shape
    cross = jnp.moveaxis(cross_MxHxK, 0, -1).reshape(n_hidden, k * m)
    readout = jnp.einsum("jkl,ji->kjli", readout_MxKxK, jnp.eye(m, dtype=readout_MxKxK.dtype)).reshape(k * m, k * m)
    return jnp.concatenate([jnp.concatenate([hidden, cross], axis=1),
                            jnp.concatenate([cross.T, readout], axis=1)], axis=0)


def make_pinn_hessian(
    activation: Activation,
    previous_streams: Callable[[Any], tuple[jax.Array, jax.Array, jax.Array]],
    value_Q: jax.Array,
    slope_QxD: jax.Array,
    curvature_Q: jax.Array,
    target_Q: jax.Array,
    weights_Q: jax.Array,
    unravel: Callable[[jax.Array], Any],
    template: Any,
) -> Callable[[jax.Array], jax.Array]:
    """Build ``hessian(theta_P) -> H_PxP`` of a strong-form PINN loss L(θ) = Σ_q w_q (F_q(θ) − t_q)², exactly.

    The operator must be F_q = Σ_k θᴼ_k Φ_q(s_qk): the read-out of a ``make_mlp`` network's last hidden layer through
    a linear second-order operator applied per unit, where s_qk = (z, ∂_d z, ∂_dd z) are the last layer's pre-activation
    z_k = ã · u_k (ã = [1, a], u_k = [b_k; W_:k]) and its x-derivatives at node q, and

        Φ_q(s) = value_q σ(z) + Σ_d slope_qd σ'(z) ∂_d z + curvature_q Σ_d (σ''(z) (∂_d z)² + σ'(z) ∂_dd z),

    which is 𝓛[g h_k] for 𝓛 = ∇² + c with the envelope g: value = ∇²g + c g, slope = 2∇g, curvature = g
    (``problems.make_pinn``). ``jax.hessian`` pushes P tangents through the x-derivative streams. Here every block is
    written by the chain rule through the streams Ã_q (the 1 + 2D streams [1, a], [0, ∂_d a], [0, ∂_dd a] of the
    layer before the last), on which the P₀ parameters θᵇ of the earlier layers act alone:

    - the Gauss–Newton part Σ_q 2w_q ∇F_q ∇F_qᵀ from the per-node Jacobian, whose θᵇ columns are
      Σ_si G_qsi ∂Ã_qsi/∂θᵇ with G = ∂F_q/∂Ã_q (``jacfwd`` of the streams: P₀ tangents through the earlier layers only);
    - the residual part Σ_q c_q ∇²F_q: block-diagonal over the units k on (u, θᴼ), from Φ's gradient and Hessian in its
      1 + 2D streams (small autodiff per node and unit); on (θᵇ, ·) from the same and B_qks = Σ_i ∂Ã_qsi/∂θᵇ U_ik,
      plus Σ_q c_q Σ_si G_qsi ∇²Ã_qsi on (θᵇ, θᵇ), the Hessian of one scalar in θᵇ through the earlier layers.

    Nothing is approximated: tests compare with ``jax.hessian`` to 1e-12 relative.

    Args:
      activation: σ.
      previous_streams: params ↦ (a, ∂_d a, ∂_dd a) of the layer before the last (``a_QxF``, ``QxDxF``, ``QxDxF``;
        x itself, the identity and zeros for a one-layer network).
      value_Q, slope_QxD, curvature_Q: Φ's coefficients at the nodes.
      target_Q: t.
      weights_Q: w_q, the loss's factor included.
      unravel, template: as in ``make_mlp_least_squares_hessian`` (the layer-major layout is checked).
    """
    n_params = _require_layer_major(template)
    fan_in, width = template["hidden"][-1]["w"].shape
    n_own = (fan_in + 1) * width + width  # the last hidden layer and the read-out
    n_before = n_params - n_own
    dim = slope_QxD.shape[1]

    def phi(s_S: jax.Array, value: jax.Array, slope_D: jax.Array, curvature: jax.Array) -> jax.Array:
        a, s1, s2 = activation_derivatives(activation, s_S[0])
        dz, ddz = s_S[1:1 + dim], s_S[1 + dim:]
        return value * a + jnp.dot(slope_D, dz) * s1 + curvature * jnp.sum(s2 * dz * dz + s1 * ddz)

    # Φ, its gradient and Hessian in the streams, per node (outer vmap) and unit (inner vmap).
    per_unit = lambda f: jax.vmap(f, in_axes=(0, None, None, None))  # noqa: E731
    per_node = lambda f: jax.vmap(per_unit(f), in_axes=(0, 0, 0, 0))  # noqa: E731
    phi_QK, dphi_QKS, ddphi_QKSS = (per_node(f) for f in (phi, jax.grad(phi), jax.hessian(phi)))

    def hessian(theta: jax.Array) -> jax.Array:
        params = unravel(theta)
        last, out_K = params["hidden"][-1], params["out"]

        def streams_of(theta_before: jax.Array) -> jax.Array:
            """The streams [a, ∂_d a, ∂_dd a] of the layer before the last as a function of θᵇ: ``QxSxF``."""
            a, da, dda = previous_streams(unravel(jnp.concatenate([theta_before, theta[n_before:]])))
            return jnp.concatenate([a[:, None, :], da, dda], axis=1)

        streams = streams_of(theta[:n_before])
        n_q = streams.shape[0]
        # ã per stream: [1, a], [0, ∂_d a], [0, ∂_dd a]  →  A_QxSxI, S = 1 + 2D, I = fan_in + 1.
        ones, zeros = jnp.ones((n_q, 1, 1), theta.dtype), jnp.zeros((n_q, 2 * dim, 1), theta.dtype)
        A_QxSxI = jnp.concatenate([jnp.concatenate([ones, zeros], axis=1), streams], axis=2)
        U_IxK = jnp.concatenate([last["b"][None, :], last["w"]], axis=0)
        s_QxKxS = jnp.einsum("qsi,ik->qks", A_QxSxI, U_IxK)
        basis_QK = phi_QK(s_QxKxS, value_Q, slope_QxD, curvature_Q)
        dphi = dphi_QKS(s_QxKxS, value_Q, slope_QxD, curvature_Q)
        ddphi = ddphi_QKSS(s_QxKxS, value_Q, slope_QxD, curvature_Q)
        c_Q = 2.0 * weights_Q * (basis_QK @ out_K - target_Q)

        # Per-node Jacobian over (Θ_L, θᴼ): ∂F_q/∂u_ik = θᴼ_k Σ_s Φ_s ã_si (layout i·K + k), ∂F_q/∂θᴼ_k = Φ.
        grad_u_QxIxK = jnp.einsum("qks,qsi->qik", dphi, A_QxSxI)
        jac_QxN = jnp.concatenate([(grad_u_QxIxK * out_K).reshape(n_q, -1), basis_QK], axis=1)
        # Residual part, block-diagonal over units: (u_k, u_k) Σ_q c_q θᴼ_k Σ_st Φ_st ã_s ã_tᵀ;
        # (u_k, θᴼ_k) Σ_q c_q Σ_s Φ_s ã_s.
        weighted = ddphi * (c_Q[:, None] * out_K[None, :])[:, :, None, None]
        half_QxKxTxI = jnp.einsum("qkst,qsi->qkti", weighted, A_QxSxI)
        own_IxJxK = jnp.einsum("qkti,qtj->ijk", half_QxKxTxI, A_QxSxI)
        n_u = (fan_in + 1) * width
        own = _expand_diagonal(own_IxJxK, (0, 2, 1, 2)).reshape(n_u, n_u)
        mixed_IxK = jnp.einsum("q,qik->ik", c_Q, grad_u_QxIxK)
        mixed = _expand_diagonal(mixed_IxK, (0, 1, 1)).reshape(n_u, width)
        jac_QxP = jac_QxN
        if n_before:
            # The earlier layers θᵇ act through the streams only: ∂Ã/∂θᵇ (P₀ forward tangents through those layers),
            # and from the same tangents B_qksb = ∂s_qks/∂θᵇ_b = Σ_f ∂Ã_qsf/∂θᵇ_b W_fk (faster than contracting the
            # first with W).
            w_FxK = last["w"]

            def streams_and_last(theta_before: jax.Array) -> tuple[jax.Array, jax.Array]:
                streams_QxSxF = streams_of(theta_before)
                return streams_QxSxF, jnp.einsum("qsf,fk->qks", streams_QxSxF, w_FxK)

            dstreams_QxSxFxB, B_QxKxSxB = jax.jacfwd(streams_and_last)(theta[:n_before])
            G_QxSxF = jnp.einsum("qks,fk->qsf", dphi * out_K[None, :, None], w_FxK)  # ∂F_q/∂(a-streams)
            jac_before_QxB = jnp.einsum("qsf,qsfb->qb", G_QxSxF, dstreams_QxSxFxB)
            jac_QxP = jnp.concatenate([jac_before_QxB, jac_QxN], axis=1)
        hess = jac_QxP.T @ (2.0 * weights_Q[:, None] * jac_QxP)
        hess = _add_block(hess, own, n_before, n_before)
        hess = _add_block(hess, mixed, n_before, n_before + n_u)
        hess = _add_block(hess, mixed.T, n_before + n_u, n_before)
        if n_before == 0:
            return hess

        # (θᵇ, θᵇ): Σ_q c_q θᴼ_k Σ_st Φ_st B_qks B_qktᵀ through the last layer, and Σ_q c_q Σ_sf G_qsf ∇²(streams)_qsf
        # through the earlier layers (the Hessian of that one scalar, with c and G held).
        T_QxKxTxB = jnp.sum(weighted[..., None] * B_QxKxSxB[:, :, :, None, :], axis=2)  # over S = 1 + 2D: no dot
        held = jax.lax.stop_gradient(c_Q[:, None, None] * G_QxSxF)
        inner = jax.hessian(lambda tb: jnp.sum(held * streams_of(tb)))(theta[:n_before])
        before = jnp.einsum("qktb,qktc->bc", T_QxKxTxB, B_QxKxSxB) + inner
        # (θᵇ, u_jk): Σ_q [Σ_t T_qktb ã_qtj + c_q θᴼ_k Σ_s Φ_s ∂ã_qsj/∂θᵇ]; (θᵇ, θᴼ_k): Σ_q c_q Σ_s Φ_s B_qksb.
        c_dphi = c_Q[:, None, None] * dphi
        through_U = jnp.einsum("qktb,qtj->bjk", T_QxKxTxB, A_QxSxI)
        direct_U = jnp.einsum("qks,qsfb->bfk", c_dphi * out_K[None, :, None], dstreams_QxSxFxB)
        to_U = through_U.at[:, 1:, :].add(direct_U).reshape(n_before, n_u)
        to_out = jnp.einsum("qks,qksb->bk", c_dphi, B_QxKxSxB)
        cross = jnp.concatenate([to_U, to_out], axis=1)
        hess = _add_block(hess, before, 0, 0)
        hess = _add_block(hess, cross, 0, n_before)
        return _add_block(hess, cross.T, n_before, 0)

    return hessian
