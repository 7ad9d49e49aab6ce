"""Plotting set-up shared by the figure scripts (matplotlib without a display)."""

import os

__all__ = ["plt", "save"]


def plt():
    """``matplotlib.pyplot`` with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def save(fig, out, name, dpi=110):
    """Save ``fig`` as ``<out>/<name>`` (folder created), close it, return the path."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    fig.savefig(path, dpi=dpi)
    plt().close(fig)
    return path
