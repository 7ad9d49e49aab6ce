"""
The results table: every experiment records its measured numbers beside the paper's claim.

Each figure script calls `record_results(section, rows, folder)`, which writes
``<folder>/results/<section>.json``; `write_results_md` assembles all sections into
``<folder>/RESULTS.md`` (the command line does this after every ``run``).
"""

import json
import os
import re
import time

import numpy as np

__all__ = ["sized", "mean_range", "record_results", "write_results_md", "render_results_md",
           "load_sections", "section_figures", "ok_mark", "format_value", "figure_main", "experiment_checkpoint", "timed_fit", "set_checkpoint_dir",
           "CHECKPOINT_ENV"]

#: environment variable naming the folder where experiments checkpoint their long fits
CHECKPOINT_ENV = "BRIANLEARN_CHECKPOINTS"


def set_checkpoint_dir(directory):
    """Make the experiments of this process checkpoint their long fits in ``directory``."""
    os.environ[CHECKPOINT_ENV] = os.path.abspath(directory)


def experiment_checkpoint(name, quick, seed, device=None):
    """``fit()`` keywords that checkpoint an experiment's long fit and resume it.

    Without ``$BRIANLEARN_CHECKPOINTS`` (set by ``brianlearn run --checkpoint-dir DIR`` and the
    figure scripts' ``--checkpoint-dir``): ``{}``. With it: ``checkpoint=<DIR>/<name>-<size>-
    seed<seed>-<device>.npz`` and ``resume=True``, so an interrupted experiment run again with the
    same options continues where it stopped (a checkpoint of a different fit is refused).
    """
    folder = os.environ.get(CHECKPOINT_ENV)
    if not folder:
        return {}
    os.makedirs(folder, exist_ok=True)
    dev = device if isinstance(device, str) or device is None else getattr(device, "name", str(device))
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{name}-{'quick' if quick else 'full'}-seed{seed}-{dev or 'default'}")
    return {"checkpoint": os.path.join(folder, tag + ".npz"), "resume": True}


def timed_fit(fit, name, quick, seed, device=None):
    """Call ``fit(**experiment_checkpoint(name, quick, seed, device))``; return its wall-clock
    seconds, or None when it resumed from a checkpoint (its time would not be the fit's)."""
    import time as _time

    ck = experiment_checkpoint(name, quick, seed, device)
    resumed = bool(ck) and os.path.exists(ck["checkpoint"])
    start = _time.perf_counter()
    fit(**ck)
    return None if resumed else _time.perf_counter() - start


def sized(name, quick):
    """``name`` for a quick run, ``name + '_full'`` for the paper's sizes: the section and figure
    names a ``--full`` run writes, so that it never overwrites the quick rows."""
    return name if quick else f"{name}_full"


def mean_range(values, spec=".3g"):
    """``'mean (min - max)'`` of per-seed values, each formatted with ``spec``: how the rows
    report a result over seeds."""
    v = np.asarray(values, dtype=float)
    return f"{np.mean(v):{spec}} ({np.min(v):{spec}} - {np.max(v):{spec}})"


def record_results(section, rows, folder="figures", title=None, command=None):
    """Store one experiment's rows.

    Parameters
    ----------
    section : str
        File-name-safe key (e.g. ``'demo'``, ``'nsm_solver_check'``).
    rows : list of dict
        Each with ``quantity``, ``measured``, ``paper`` (claim or reference value) and
        optionally ``ok`` (bool: the acceptance criterion holds) and ``figure``.
    title : str, optional
        Section heading.
    command : str, optional
        The command that regenerates the numbers.
    """
    os.makedirs(os.path.join(folder, "results"), exist_ok=True)
    title = title or section
    if section.endswith("_full") and "--full" not in title:  # (`sized`: the paper's sizes)
        title += " (--full)"
    payload = {"section": section, "title": title, "command": command,
               "date": time.strftime("%Y-%m-%d"), "rows": rows}
    with open(os.path.join(folder, "results", f"{section}.json"), "w") as f:
        json.dump(payload, f, indent=1, default=str)
    return write_results_md(folder)


def format_value(value):
    """A measured or reference value as RESULTS.md prints it (floats to 4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_results_md(folder="figures"):
    """Write ``<folder>/RESULTS.md`` from all recorded sections (`render_results_md`); returns its path."""
    path = os.path.join(folder, "RESULTS.md")
    with open(path, "w") as f:
        f.write(render_results_md(folder))
    return path


def load_sections(folder="figures"):
    """Every section stored in ``<folder>/results/*.json`` (dicts: section, title, command, date,
    rows), in name order."""
    rdir = os.path.join(folder, "results")
    sections = []
    if os.path.isdir(rdir):
        for name in sorted(os.listdir(rdir)):
            if name.endswith(".json"):
                with open(os.path.join(rdir, name)) as f:
                    sections.append(json.load(f))
    return sections


def section_figures(section):
    """File names of the figures a section's rows refer to (sorted)."""
    return sorted({os.path.basename(row["figure"]) for row in section["rows"] if row.get("figure")})


def ok_mark(row):
    """The ``ok`` column of a row: '' (no acceptance), 'yes' or '**no**'."""
    ok = row.get("ok")
    return "" if ok is None else ("yes" if ok else "**no**")


def render_results_md(folder="figures"):
    """The text of ``RESULTS.md``: every section stored in ``<folder>/results/*.json``, in name order."""
    sections = load_sections(folder)
    lines = ["# Results", "", "Measured by brianlearn beside the papers' claims. Generated by the figure "
             "scripts (`brianlearn run PROTOCOL`); do not edit by hand.", ""]
    for sec in sections:
        lines += [f"## {sec['title']}", ""]
        if sec.get("command"):
            lines += [f"Command: `{sec['command']}` ({sec['date']})", ""]
        lines += ["| quantity | measured | paper / reference | ok |", "|---|---|---|---|"]
        for row in sec["rows"]:
            lines.append(f"| {row['quantity']} | {format_value(row['measured'])} | "
                         f"{format_value(row.get('paper', ''))} | {ok_mark(row)} |")
        # (figures are written next to RESULTS.md: named by file name, so that the rendering does not
        # depend on where the rows were recorded, e.g. an absolute path on another machine)
        figs = section_figures(sec)
        if figs:
            lines += [""] + [f"![{f}]({f})" for f in figs]
        lines.append("")
    return "\n".join(lines)


def figure_main(func, doc, argv=None, options=None):
    """Command line shared by the scripts in ``figures/``: ``[--full] [--device D] [--seed N] [--out DIR]``.

    ``func(out=..., quick=..., seed=..., device=...)`` makes the figure; ``doc`` is the script's
    docstring (its first line is the description). Figures go next to the scripts by default.
    ``options`` adds script-specific options: ``{"--images": {"help": ...}}``, passed on to
    ``func`` as keywords (``images=...``).
    """
    import argparse
    import sys

    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--full", action="store_true", help="the paper's sizes (default: quick)")
    p.add_argument("--device", default=None, help="runtime, cpp_standalone (default) or cuda_standalone")
    p.add_argument("--seed", type=int, default=0)
    here = os.path.dirname(os.path.abspath(sys.argv[0]))
    p.add_argument("--out", default=here, help=f"output folder (default: the script's folder, {here})")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoint the long fits in this folder; the same command resumes an interrupted run")
    extra = []
    for flag, kwds in (options or {}).items():
        extra.append(p.add_argument(flag, **kwds).dest)
    args = p.parse_args(argv)
    if args.checkpoint_dir:
        set_checkpoint_dir(args.checkpoint_dir)
    return func(out=args.out, quick=not args.full, seed=args.seed, device=args.device,
                **{dest: getattr(args, dest) for dest in extra})
