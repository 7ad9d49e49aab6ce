"""
Chained chunks: the replayed chunks of a fit sent to the build's fork server ahead of their answers.

A chunk's learned variables are the results of the chunk before, so a fit ran its chunks one
after the other: Python wrote a chunk's run arguments, waited for the binary, read its results
and only then wrote the next chunk's, and the binary waited while Python worked. Here chunk
``c + 1``'s learned-variable run arguments name chunk ``c``'s results files (``name=FILE``, read
by the binary as Brian2 reads any file-valued run argument), so chunk ``c + 1`` is sent before
chunk ``c`` has answered; the server starts it as soon as chunk ``c`` has
(`brianlearn.servercode`), and Python reads chunk ``c``'s results and prepares chunk ``c + 2``
while chunk ``c + 1`` runs. The learned values are the same bytes the binary wrote, so a chained
fit gives exactly what a fit of one chunk at a time gives (a test checks it).

Used by `brianlearn.compiled` for the chunks of `Protocol.run_trials` where the build is replayed,
has a fork server and the run shows no output (from the first chunk on). Where the server ends without
answering, the chunks not yet answered are run again one at a time, by starting the binary.
"""

import collections
import contextlib

import brianlearn.forkserver as forkserver
import brianlearn.replay as replay

__all__ = ["run_chained", "DEPTH"]

#: chunks sent and not yet answered, at most
DEPTH = 2


def run_chained(manifest, inputs, state):
    """Run the chunks ``inputs`` (an iterable of ``(seed, timed)``: the chunk's run-time seed and
    ``name -> values`` of its TimedArrays, as for `replay.run`) of the manifest's build, the first
    with the learned variables ``state`` (``key -> values``), each later one with those of the
    chunk before. Yields ``(state, records)`` of each chunk in order (`replay.read_results`); the
    caller holds `buildcache.running`."""
    inputs = iter(inputs)
    with contextlib.ExitStack() as folders_:
        folders = [folders_.enter_context(replay.scratch()) for _ in range(DEPTH + 1)]
        session = forkserver.open_session(replay.run_command(), manifest["directory"], replay.environment(manifest))
        pending = collections.deque()  # (seed, timed, folder) sent, not answered
        if session is not None:
            try:
                with session:
                    learned = state
                    for i, (seed, timed) in enumerate(inputs):
                        folder = folders[i % len(folders)]
                        results = replay.results_folder(folder)
                        args = replay.run_arguments(manifest, folder, seed, learned, timed)
                        settings = replay.settings_of(manifest, {"learned": learned, "timed": timed})
                        pending.append((seed, timed, folder))
                        if not session.send(replay.run_line(results, args), settings, replay.stdout_file(folder)):
                            raise forkserver.Gone()  # (an argument that cannot be sent: not expected)
                        learned = {k: results + e["file"] for k, e in manifest["learned"].items()}
                        if len(pending) >= DEPTH:
                            state = yield from _answer(session, manifest, pending)
                    while pending:
                        state = yield from _answer(session, manifest, pending)
                return
            except forkserver.Gone:
                pass  # (the server is gone: the chunks not answered again, by starting the binary)
        for seed, timed in [(seed, timed) for seed, timed, _ in pending] + list(inputs):
            with replay.scratch() as folder:
                results = replay.run(manifest, folder, seed, state, timed)
                state, records = replay.read_results(results, manifest)
            yield state, records


def _answer(session, manifest, pending):
    """Wait for the oldest chunk sent, yield its ``(state, records)`` and return its state."""
    code = session.answer()
    _, _, folder = pending[0]
    replay.check_status(code, manifest, replay.stdout_file(folder))
    state, records = replay.read_results(replay.results_folder(folder), manifest)
    pending.popleft()
    yield state, records
    return state
