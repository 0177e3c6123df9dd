"""Seeds split across 4 host devices give the same per-seed results as one device (E3 itself, bit for bit).

XLA fixes the host device count when JAX starts, so the 4-device run happens in a
fresh interpreter started with ``--xla_force_host_platform_device_count=4``.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from jaxnewton.engine.loop import CONVERGED
from jaxnewton.engine.sweep import use_every_core

SCRIPT = textwrap.dedent("""
    import sys
    import jax
    import numpy as np
    from jaxnewton.engine.config import load_config, override
    from jaxnewton.engine.build import build, initial_points
    from jaxnewton.engine.sweep import advance_running, diagnose_batch, init_batch, make_batch_fns, map_rows

    def run(out):
        # The real E3: with a 4-wide network on 20 nodes the one- and the four-device programs once rounded alike
        # while E3's did not (a batched LU on one device, a sequential one on four: core.linalg, issue 44).
        e3 = build(load_config("mlp_tanh"))
        fns = make_batch_fns(e3.loop, e3.diagnose)
        state = init_batch(fns, initial_points(e3, np.arange(12)))
        status = state.status.copy()
        status[:4] = {converged}  # finished by hand: compaction must leave them alone
        state = state._replace(status=status)
        for until in (10, 20, 25):
            state = advance_running(fns, state, until)
        diag = diagnose_batch(fns, state.theta)
        x = np.linspace(-1.0, 1.0, 15).reshape(5, 3)  # 5 rows: padded to 8 on 4 devices
        mapped = map_rows(lambda a, b: {{"dot": jax.numpy.tanh(a) @ b, "b": b}})(x, x[::-1])
        np.savez(out, n_devices=fns.n_devices, mapped_dot=mapped["dot"], mapped_b=mapped["b"],
                 theta=state.theta, steps=state.steps, status=state.status,
                 history_loss=state.history_loss, eigvals=diag.eigvals)

    if __name__ == "__main__":
        run(sys.argv[1])
""").format(converged=CONVERGED)


def run_in_subprocess(tmp_path, n_devices):
    script = tmp_path / "sharded_run.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"devices_{n_devices}.npz"
    # At XLA's default optimisation level, not the suite's (conftest): this is the suite's bitwise check of the
    # sharded, chunked sweep as `make paper` compiles it (vectorised loops included).
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}", JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, str(script), str(out)], env=env, check=True, timeout=600)
    return np.load(out)


@pytest.mark.slow
def test_four_devices_match_one(tmp_path):
    one = run_in_subprocess(tmp_path, 1)
    four = run_in_subprocess(tmp_path, 4)
    assert int(one["n_devices"]) == 1 and int(four["n_devices"]) == 4
    np.testing.assert_array_equal(four["steps"], one["steps"])
    np.testing.assert_array_equal(four["status"], one["status"])
    np.testing.assert_array_equal(four["steps"][:4], 0)  # the hand-finished seeds never moved
    for name in ("theta", "history_loss"):
        np.testing.assert_array_equal(four[name], one[name])  # every device runs chunks of the same shape
    np.testing.assert_allclose(four["eigvals"], one["eigvals"], rtol=1e-12, atol=1e-12)
    x = np.linspace(-1.0, 1.0, 15).reshape(5, 3)
    np.testing.assert_array_equal(four["mapped_b"], x[::-1])  # rows in order, padding dropped
    np.testing.assert_allclose(four["mapped_dot"], np.sum(np.tanh(x) * x[::-1], axis=1), rtol=1e-15)
    np.testing.assert_array_equal(four["mapped_dot"], one["mapped_dot"])


def test_the_cli_default_is_one_cpu_device_per_core_and_the_variable_sets_it(monkeypatch):
    probe = ("import jax; from jaxnewton.engine.sweep import use_every_core; n = use_every_core(); "
             "print(n, jax.local_device_count(), use_every_core())")
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXNEWTON_CPU_DEVICES")}
    out = subprocess.run([sys.executable, "-c", probe], env={**env, "JAXNEWTON_CPU_DEVICES": "3"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["3", "3", "None"]  # asked for 3, got 3; once JAX has started it changes nothing
    default = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert default.stdout.split()[:2] == [str(len(os.sched_getaffinity(0)))] * 2  # unset: one per core
    monkeypatch.setenv("JAXNEWTON_CPU_DEVICES", "two")
    with pytest.raises(ValueError, match="JAXNEWTON_CPU_DEVICES='two' must be an integer"):
        use_every_core()


def test_the_compilation_cache_goes_where_asked_and_off_turns_it_off(tmp_path):
    probe = ("import jax; from jaxnewton.engine.sweep import use_compilation_cache; f = use_compilation_cache(); "
             "print(f, jax.config.jax_compilation_cache_dir)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION_CACHE", "JAXNEWTON_XLA_CACHE"))}
    asked = tmp_path / "xla"
    out = subprocess.run([sys.executable, "-c", probe], env={**env, "JAXNEWTON_XLA_CACHE": str(asked)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(asked)] * 2 and asked.is_dir()
    out = subprocess.run([sys.executable, "-c", probe], env={**env, "JAXNEWTON_XLA_CACHE": "off"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", "None"]
    default = subprocess.run([sys.executable, "-c", probe], env={**env, "XDG_CACHE_HOME": str(tmp_path / "home")},
                             capture_output=True, text=True, check=True).stdout.split()
    assert default == [str(tmp_path / "home" / "jaxnewton" / "xla")] * 2
