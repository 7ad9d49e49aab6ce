"""The command line, the demo, and self-contained standalone projects."""

import os
import subprocess
import sys

import numpy as np
import pytest

from brianlearn.cli import main
from brianlearn.export import export_project, load_results
from brianlearn.protocols.demo import DemoNetwork, teacher_task


def test_show_lif_prints_equations_with_units(capsys):
    assert main(["show", "lif"]) == 0
    out = capsys.readouterr().out
    assert "du/dt = (-(u - u0) + I_syn + R * I_ext) / tau : volt (unless refractory)" in out
    assert "tau   = 15. ms" in out and "theta = 20. mV" in out and "R     = 100. Mohm" in out


def test_list_names_every_model_and_experiment(capsys):
    from brianlearn.figures import EXPERIMENTS
    from brianlearn.models import MODELS

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in list(MODELS) + list(EXPERIMENTS):
        assert f"  {name} " in out


def test_unknown_names_give_clear_errors(capsys):
    assert main(["show", "hodgkin"]) == 2
    assert "Unknown model 'hodgkin'" in capsys.readouterr().err
    assert main(["run", "nothing"]) == 2
    assert "Unknown experiment 'nothing'" in capsys.readouterr().err
    assert main(["build", "nothing", "--out", "x"]) == 2
    assert "No buildable example called 'nothing'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["run"], ["reproduce"], ["demo"], ["build"], ["results"]])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main(command + ["--help"])
    assert exc.value.code == 0
    assert "usage: brianlearn" in capsys.readouterr().out


@pytest.mark.cpp_standalone
def test_demo_learns_on_cpp_standalone(tmp_path, capsys):
    """The README's main job: the held-out error falls below the mean-rate prediction's, three seeds."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "output rate error on 200 held-out samples" in out
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    results = (tmp_path / "RESULTS.md").read_text()
    assert "| yes |" in results and "**no**" not in results


@pytest.mark.cpp_standalone
def test_exported_project_builds_with_make_and_loads_back(tmp_path):
    """`brianlearn build` output compiles with make alone and equals the engine's own run."""
    X, Y, _ = teacher_task(6, seed=11)
    from brian2 import ms

    kw = dict(seed=4, window=50 * ms, settle=10 * ms, chunk_size=6)
    folder = tmp_path / "project"
    export_project(DemoNetwork(device="cpp_standalone", **kw), {"x": X, "y": Y}, str(folder))
    makefile = (folder / "makefile").read_text()
    assert "-march=native" not in makefile and sys.prefix not in makefile
    assert (folder / "README.txt").exists()
    # the same patched sources as a cached build (codepatch.patch_generated)
    assert "_bl_next_clocks" in (folder / "network.cpp").read_text()
    assert "(brianlearn) objects.h" in makefile
    thresholders = [f for f in (folder / "code_objects").glob("*thresholder_codeobject.cpp")
                    if not f.name.startswith("after_run_")]
    assert thresholders and all("_bl_any" in f.read_text() for f in thresholders)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(["make", "run", "-j2"], cwd=folder, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = load_results(str(folder))
    engine = DemoNetwork(device="cpp_standalone", **kw).train(X, Y)
    np.testing.assert_allclose(exported.state["ff.w"], engine.state["ff.w"], rtol=1e-12)
    for key in engine.records:
        np.testing.assert_array_equal(exported.records[key], engine.records[key])


def test_load_results_errors(tmp_path):
    with pytest.raises(ValueError, match="not a brianlearn project"):
        load_results(str(tmp_path))


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "brianlearn.cli", "show", "rate_trace"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "dr/dt = -r / tau_r : Hz" in out.stdout


@pytest.mark.cpp_standalone
def test_compare_command_prints_model_versus_data(tmp_path, capsys):
    assert main(["compare", "pair_stdp", "bi_poo_1998", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "RMSE = 0.00 %" in out  # the Bi & Poo parameters reproduce their own fit
    assert (tmp_path / "plasticity_compare_pair_stdp_bi_poo_1998.png").exists()
    assert main(["compare", "pair_stdp", "nonsense_2024"]) == 2
    assert "nonsense_2024" in capsys.readouterr().err


def test_figure_scripts_pass_their_own_options_on():
    from brianlearn.results import figure_main

    seen = {}
    figure_main(lambda **kw: seen.update(kw), "A figure.\n", argv=["--full", "--seed", "3", "--images", "I.mat"],
                options={"--images": {"default": None}})
    assert seen == {"out": seen["out"], "quick": False, "seed": 3, "device": None, "images": "I.mat"}


def test_experiments_checkpoint_their_fits_when_asked(tmp_path, monkeypatch, capsys):
    from brianlearn.results import CHECKPOINT_ENV, experiment_checkpoint, figure_main

    monkeypatch.delenv(CHECKPOINT_ENV, raising=False)
    assert experiment_checkpoint("nsm_patches", True, 0, "cpp_standalone") == {}
    figure_main(lambda **kw: None, "A figure.\n", argv=["--checkpoint-dir", str(tmp_path / "ck")])
    kw = experiment_checkpoint("nsm_patches", False, 3, "runtime")
    assert kw == {"checkpoint": str(tmp_path / "ck" / "nsm_patches-full-seed3-runtime.npz"), "resume": True}
    assert (tmp_path / "ck").is_dir()
    assert experiment_checkpoint("eqprop_rate_20 hidden, all layers", True, 0)["checkpoint"].endswith(
        "eqprop_rate_20_hidden_all_layers-quick-seed0-default.npz")
    monkeypatch.delenv(CHECKPOINT_ENV)
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--checkpoint-dir DIR" in capsys.readouterr().out


def test_reproduce_reruns_every_experiment_and_states_its_time(tmp_path, monkeypatch, capsys):
    """``brianlearn reproduce`` runs every experiment of `EXPERIMENTS` in order, quick or --full."""
    from brianlearn import figures

    ran = []
    monkeypatch.setattr(figures, "EXPERIMENTS", {"one": (), "two": ()})
    monkeypatch.setattr(figures, "run_experiment", lambda name, **kw: ran.append((name, kw["quick"], kw["out"])))
    assert main(["reproduce", "--device", "runtime", "--out", str(tmp_path)]) == 0
    assert main(["reproduce", "--full", "--device", "runtime", "--out", str(tmp_path)]) == 0
    assert ran == [("one", True, str(tmp_path)), ("two", True, str(tmp_path)),
                   ("one", False, str(tmp_path)), ("two", False, str(tmp_path))]
    out = capsys.readouterr().out
    assert "brianlearn reproduce: every experiment (one, two) rerun in" in out and "--full: every" in out


def test_full_runs_write_their_own_sections(tmp_path):
    """A --full run (`sized`) never overwrites the quick rows; both render, the full one marked."""
    from brianlearn.results import record_results, sized

    row = lambda v: [{"quantity": "q", "measured": v, "paper": "-"}]  # noqa: E731
    record_results(sized("demo", True), row(1.0), folder=str(tmp_path), title="Demo")
    md = open(record_results(sized("demo", False), row(2.0), folder=str(tmp_path), title="Demo")).read()
    assert sorted(os.listdir(tmp_path / "results")) == ["demo.json", "demo_full.json"]
    assert "## Demo\n" in md and "## Demo (--full)\n" in md and "| q | 1 |" in md and "| q | 2 |" in md


def test_results_md_is_exactly_the_rendering_of_the_stored_rows(tmp_path, monkeypatch):
    """figures/RESULTS.md is generated: rendering figures/results/*.json gives it byte for byte,
    from any working directory (the rows may have been recorded elsewhere)."""
    from brianlearn.results import render_results_md

    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "figures")
    monkeypatch.chdir(tmp_path)
    with open(os.path.join(folder, "RESULTS.md")) as f:
        assert render_results_md(folder) == f.read()
