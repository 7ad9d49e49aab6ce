"""
The simulation of a stimulus on a synapse model: `run_conditions`.

Every condition (one Δt, one frequency, one triplet) gets its own presynaptic and
postsynaptic `SpikeGeneratorGroup` neuron and one synapse, so that all conditions run in
**one** simulation (one compiled binary on ``cpp_standalone``) without interacting. The weight
is relative (``w = 1`` at the start) and results are percent changes ``100 (w - 1)``.

The network is built, compiled, run and read back through the engine's one path
(`brianlearn.compiled`: `take_device`, `build_cached`, `require_runnable`, `standalone_run`).
Parameter values and spike times are run arguments, not code, and the sizes are rounded up
to buckets, so a new parameter set or stimulus of similar size reuses the compiled binary; on
``cpp_standalone`` it runs that binary again without generating the code (`brianlearn.replay`),
its spikes written as the build's static arrays.
"""

import numpy as np
from brian2 import Network, SpikeGeneratorGroup, Synapses, defaultclock, ms, second, set_device
from brian2.devices.device import get_device
from brian2.units.fundamentalunits import Quantity, get_dimensions

import brianlearn.replay as replay
from brianlearn.compiled import build_cached, find_replay, require_runnable, run_replayed, standalone_run, take_device
from brianlearn.devices import resolve_device
from brianlearn.validation import check_array, check_quantity

from .parameters import code_key, constant_parameters, resolve_synapse, shipped_rule, unit_text
from .reference import event_weight_change

__all__ = ["run_conditions"]


def _snap(times, dt):
    """Spike times (s) on the simulation grid (integer steps)."""
    return np.round(np.asarray(times, dtype=float) / dt).astype(np.int64)


def _check_conditions(conditions, dt):
    """The conditions as sorted integer time steps, or a ValueError naming the condition.

    Plain arrays of all conditions are checked and sorted at once (the loop over conditions
    took half of a 1 000-condition call); a condition with quantities, an input that fails a
    check or an unusual shape goes through `_check_each`, which names the condition."""
    conditions = list(conditions)
    conds = _check_all(conditions, dt)
    return conds if conds is not None else _check_each(conditions, dt)


def _check_all(conditions, dt):
    """`_check_conditions` of plain 1-D times in one pass, or None where `_check_each` decides."""
    try:
        arrays = [np.asarray(times, dtype=float) for cond in conditions for times in cond]
    except (TypeError, ValueError):
        return None
    if (not arrays or len(arrays) != 2 * len(conditions) or any(len(c) != 2 for c in conditions)
            or any(a.ndim != 1 for a in arrays)
            or any(isinstance(t, Quantity) for c in conditions for t in c)):
        return None
    lengths = np.array([len(a) for a in arrays])
    times = np.concatenate(arrays)
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        return None
    steps, which = _snap(times, dt), np.repeat(np.arange(len(arrays)), lengths)
    same = which[1:] == which[:-1]
    if np.any(steps[1:][same] <= steps[:-1][same]):  # (not each array increasing: sort them)
        order = np.lexsort((steps, which))  # (by array, then by time step)
        steps = steps[order]
        if np.any(steps[1:][same] == steps[:-1][same]):
            return None
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    pieces = [steps[a:b] for a, b in zip(bounds[:-1], bounds[1:])]  # (np.split took 2 ms for 2 000 pieces)
    return list(zip(pieces[0::2], pieces[1::2]))


def _check_each(conditions, dt):
    """`_check_conditions` one condition at a time."""
    conds = []
    for k, cond in enumerate(conditions):
        if len(cond) != 2:
            raise ValueError(f"conditions[{k}] must be (pre_times, post_times).")
        pair = []
        for which, times in zip(("pre", "post"), cond):
            if isinstance(times, Quantity):
                times = check_quantity(f"conditions[{k}] {which} times", times, second, "second")
            arr = np.atleast_1d(check_array(f"conditions[{k}] {which}synaptic spike times", times))
            if np.any(arr < 0):
                raise ValueError(f"conditions[{k}]: {which}synaptic spike times must be >= 0.")
            steps = _snap(arr, dt)
            if len(np.unique(steps)) != len(steps):
                raise ValueError(f"conditions[{k}]: two {which}synaptic spikes fall into the same time step "
                                 f"(dt = {dt * 1e3:g} ms).")
            pair.append(np.sort(steps))
        conds.append(tuple(pair))
    if not conds:
        raise ValueError("conditions must not be empty.")
    return conds


def _parameter_columns(model, names, n, param_rows):
    """name -> per-condition values (SI floats) of the model's constant parameters."""
    if param_rows is not None and len(param_rows) != n:
        raise ValueError(f"param_rows needs one dict per condition ({n}), got {len(param_rows)}.")
    values = {}
    for key in names:
        default = model.parameters[key]
        if param_rows is None:
            values[key] = np.full(n, float(default))
            continue
        col = []
        for k in range(n):
            v = default if param_rows is None else param_rows[k].get(key, default)
            if get_dimensions(v) is not get_dimensions(default):
                raise ValueError(f"param_rows[{k}]['{key}'] must have the units of {default!r}.")
            col.append(float(v))
        values[key] = np.array(col)
    if param_rows is not None:
        for k, row in enumerate(param_rows):
            extra = set(row) - set(names)
            if extra:
                raise ValueError(f"param_rows[{k}]: unknown parameter(s) {sorted(extra)}.")
    return values


def run_conditions(synapse, conditions, params=None, device=None, engine="brian2", dt=0.1 * ms, param_rows=None):
    """Percent weight change of one synapse per condition, all conditions in one simulation.

    Parameters
    ----------
    synapse : str or SynapseModel
    conditions : list of (array, array)
        Presynaptic and postsynaptic spike times per condition (seconds as floats, or time
        quantities). Times are rounded to the ``dt`` grid; a presynaptic and a postsynaptic
        spike in the same time step are processed presynaptic first (Brian2's order).
    params : dict or str, optional
        See `resolve_synapse`.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` (default: brianlearn's default device) or
        ``'cuda_standalone'``. Standalone builds are cached by a hash of the generated code;
        parameter values and spike times are not part of the code, so a new parameter set
        or stimulus reuses the compiled objects.
    engine : {'brian2', 'numpy'}
        ``'numpy'``: the exact event-by-event evaluation `event_weight_change` (shipped rules only).
    dt : Quantity
        Simulation time step.
    param_rows : list of dict, optional
        Per-condition parameter overrides (one dict per condition).

    Returns
    -------
    ndarray
        ``100 * (w - 1)`` per condition.
    """
    model = resolve_synapse(synapse, params)
    dt = float(check_quantity("dt", dt, second, "second", allow_array=False, positive=True))
    conds = _check_conditions(conditions, dt)
    names = constant_parameters(model)
    values = _parameter_columns(model, names, len(conds), param_rows)
    if engine == "numpy":
        rule = shipped_rule(model)
        if rule is None:
            raise ValueError(f"engine='numpy' evaluates only the shipped rules (pair_stdp, triplet_stdp, "
                             f"triplet_stdp_nearest); synapse '{model.name}' has other code. Use engine='brian2'.")
        w = np.array([event_weight_change(rule, {k: values[k][i] for k in names}, pre * dt, post * dt,
                                          same_step_order=True)
                      for i, (pre, post) in enumerate(conds)])
    elif engine == "brian2":
        w = _simulate(model, conds, names, values, dt, device)
    else:
        raise ValueError(f"engine must be 'brian2' or 'numpy', got {engine!r}.")
    return 100.0 * (w - 1.0)


def _bucket(size, minimum):
    """The next power of two >= size (at least ``minimum``)."""
    return int(max(minimum, 2 ** int(np.ceil(np.log2(max(size, 1))))))


def _spike_arrays(conds):
    """Neuron indices and time steps of all presynaptic and all postsynaptic spikes."""
    out = []
    for side in (0, 1):
        idx = np.repeat(np.arange(len(conds), dtype=np.int64), [len(c[side]) for c in conds])
        steps = np.concatenate([c[side] for c in conds]).astype(np.int64)
        out.append((idx, steps))
    return out


def _padded(spikes, n_conditions, steps):
    """Standalone sizes: neurons, spike counts and duration rounded up to buckets.

    Sizes and the duration are literals in the generated code; a padding neuron holds padding
    spikes after the end, so that stimuli of similar size share one compiled binary.
    """
    n_total = _bucket(n_conditions + 1, 4)
    steps = int(np.ceil(2 ** (np.ceil(8 * np.log2(steps)) / 8)))
    pads = []
    for idx, times in spikes:
        extra = _bucket(len(times), 64) - len(times)
        pads.append((np.concatenate([idx, np.full(extra, n_total - 1)]),
                     np.concatenate([times, steps + 2 + np.arange(extra)])))
    return pads, n_total, steps


def _simulate(model, conds, names, values, dt, device):
    """Build, run once and read back ``w`` (runtime or standalone, one network).

    On ``cpp_standalone`` a stimulus whose sizes, model code and device match an earlier build
    runs that build again without generating its code (`brianlearn.replay`): its spikes are
    written as the SpikeGeneratorGroups' static arrays, ``w`` and the parameters are run
    arguments. A fit calls this once per evaluation of its cost."""
    config = resolve_device(device)
    n = n_total = len(conds)
    spikes = _spike_arrays(conds)
    last = max(int(s.max()) if len(s) else 0 for _, s in spikes)
    steps = last + 3
    if config.standalone:
        spikes, n_total, steps = _padded(spikes, n, steps)
    (pre_i, pre_s), (post_i, post_s) = spikes
    values = {k: np.concatenate([v, np.full(n_total - n, v[0])]) for k, v in values.items()}
    quantities = {k: Quantity(values[k], dim=get_dimensions(model.parameters[k])) for k in names}
    namespace = {k: v for k, v in model.parameters.items() if k not in names}
    decl = "\n".join(f"{k} : {unit_text(model.parameters[k])} (constant)" for k in names)
    cfg = {"rule": code_key(model), "variables": names, "namespace": sorted(namespace), "n": n_total, "dt": dt,
           "method": model.method, "spikes": [len(pre_s), len(post_s)], "steps": steps}
    path = manifest = None
    if config.standalone:
        # (everything the generated code holds: the model's code, the declarations of its
        # per-synapse parameters, its namespace values, the sizes, the device)
        parts = {"cfg": cfg, "model": [str(model.model), decl, model.on_pre, model.on_post, model.method],
                 "namespace": namespace, "device": config}
        path, manifest = find_replay("plasticity", cfg, config, parts)
    if manifest is not None:  # (Brian2's device is not touched: a replay creates no Brian2 object)
        static = _static_spikes(manifest["spikes"], spikes, dt)
        state = run_replayed(manifest, {"w": np.ones(n_total)}, {k: values[k] for k in names}, static)
        return state["w"][:n]
    take_device(config)
    old_dt = defaultclock.dt
    try:
        # Brian2's defaultclock, not a clock of its own: brian2cuda's synaptic pathways read
        # ``defaultclock.timestep`` (a network without defaultclock does not compile for CUDA)
        defaultclock.dt = dt * second
        clock = defaultclock
        pre = SpikeGeneratorGroup(n_total, pre_i, pre_s * dt * second, clock=clock, name="pl_pre")
        post = SpikeGeneratorGroup(n_total, post_i, post_s * dt * second, clock=clock, name="pl_post")
        syn = Synapses(pre, post, model=str(model.model) + "\n" + decl, on_pre=model.on_pre, on_post=model.on_post,
                       method=model.method, namespace=namespace, clock=clock, name="pl_syn")
        syn.connect(j="i")
        net = Network(pre, post, syn, name="pl_network")
        if not config.standalone:
            for k in names:
                setattr(syn, k, quantities[k])
            syn.w = 1.0
            net.run(steps * dt * second, namespace={})
            return np.array(syn.w[:], dtype=float)[:n]
        get_device().apply_run_args()
        net.run(steps * dt * second, namespace={})
        directory, info = build_cached("plasticity", cfg, config, own_static=True)  # (spikes: data of each run)
        require_runnable(config, directory)
        run_args = {syn.w: np.ones(n_total)}
        for k in names:
            run_args[getattr(syn, k)] = quantities[k]
        with standalone_run(directory, run_args, static_arrays=info.static_arrays):  # (this stimulus's spikes)
            w = np.array(syn.variables["w"].get_value(), dtype=float)[:n]
        if path is not None:
            _save_manifest(path, get_device(), info, syn, names, (pre, post), spikes, dt, n_total)
        return w
    finally:
        set_device("runtime")  # (a one-shot run: Brian2 is left in runtime mode, as before the call)
        defaultclock.dt = old_dt


#: the variables of a SpikeGeneratorGroup that hold its spikes (static arrays of the build)
_SPIKE_VARIABLES = ("neuron_index", "spike_time", "spike_number", "_timebins")


def _static_spikes(files, spikes, dt):
    """``file name -> array``: the static arrays of the padded ``spikes`` (pre, post), named and
    typed as the manifest's ``files`` (``[[group side, variable, file, dtype], ...]``) say (Brian2
    writes the spikes' indices as int64 files, whatever the variables' own int32)."""
    arrays = [replay.spike_generator_arrays(idx, steps * dt, dt, steps) for idx, steps in spikes]
    return {name: arrays[side][var].astype(np.dtype(dtype)) for side, var, name, dtype in files}


def _save_manifest(path, device, info, syn, names, groups, spikes, dt, n_total):
    """Write the replay manifest of the plasticity build just run, if a replay would run it the
    same way: the build reads its static arrays from the folder a run names, those are exactly
    the spike arrays, and `_static_spikes` reproduces Brian2's (same bytes and types)."""
    from brianlearn.codepatch import reads_static_folder

    written = device.static_arrays  # (file name -> array as Brian2 writes it: its dtype is the file's)
    files = []
    for side, group in enumerate(groups):
        for var in _SPIKE_VARIABLES:
            name = f"_static_array_{device.get_array_name(group.variables[var], access_data=False)}"
            if name not in written:
                return
            files.append([side, var, name, written[name].dtype.str])
    ours = _static_spikes(files, spikes, dt)
    if (not reads_static_folder(info.directory) or set(written) != set(ours)
            or any(written[k].tobytes() != v.tobytes() for k, v in ours.items())):
        return
    manifest = replay.describe_network(device, info, {"w": (syn.variables["w"], n_total)},
                                       {k: syn.variables[k] for k in names}, sorted(ours))
    manifest["spikes"] = files
    replay.save(path, manifest, (), info.static_arrays)
