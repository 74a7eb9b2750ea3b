"""A session per thread: several threads explaining with one Model give
the single-threaded results bit for bit, and calls into the library
release the GIL (another Python thread keeps running meanwhile)."""
import threading
import time

import numpy as np
import pytest

import lrpx


def test_sessions_on_threads_match_one_thread(fmnist, batch8):
    m = lrpx.Model(fmnist)
    jobs = [(batch8[i:i + 2], c) for i in range(0, 8, 2)
            for c in ("epsilon_plus", "epsilon_plus_flat")]
    want = [m.explain(x, composite=c) for x, c in jobs]
    want_y = [m.run(x)["logits"] for x, _ in jobs]
    got = [None] * len(jobs)
    errors = []

    def work(k):
        try:
            for _ in range(5):                     # each thread uses its own session
                for i in range(k, len(jobs), 4):
                    x, c = jobs[i]
                    got[i] = (m.explain(x, composite=c), m.run(x)["logits"])
        except Exception as e:                     # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(len(jobs)):
        np.testing.assert_array_equal(got[i][0], want[i])
        np.testing.assert_array_equal(got[i][1], want_y[i])
    assert len({id(s) for s in [m._session()]}) == 1


def test_one_session_shared_by_threads_is_serialised(fmnist, batch8):
    s = lrpx.Model(fmnist).session()
    want = s.explain(batch8[:4])
    out = []
    ts = [threading.Thread(target=lambda: out.append(s.explain(batch8[:4]))) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(out) == 4
    for r in out:
        np.testing.assert_array_equal(r, want)


# Long calls of each kind: an explanation, an evaluation, the translation
# trick (many passes inside one call into the library).
LONG_CALLS = {
    "explain": (lambda s, x: s.explain(x), 32),
    "eval": (lambda s, x: s.eval(x, "sparseness"), 32),
    "translate": (lambda s, x: s.explain(x, translate=1), 4),
}


@pytest.mark.parametrize("kind", sorted(LONG_CALLS))
def test_the_gil_is_released_during_a_pass(fmnist, batch8, kind):
    call, reps = LONG_CALLS[kind]
    s = lrpx.Model(fmnist).session(threads=1)
    x = np.repeat(batch8, reps, axis=0)            # a call of 0.1 s or more
    call(s, x)                                     # plan built, buffers made
    gap = [0.0]
    started = threading.Event()
    done = threading.Event()

    def spin():                                    # the longest time it was held up
        last = time.perf_counter()
        started.set()
        while not done.is_set():
            now = time.perf_counter()
            gap[0] = max(gap[0], now - last)
            last = now

    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    t0 = time.perf_counter()
    call(s, x)
    elapsed = time.perf_counter() - t0
    done.set()
    t.join()
    # Were the GIL held during the call, the spinning thread would stand
    # still for the whole pass; released, it waits at most for switches.
    assert elapsed > 0.05
    assert gap[0] < elapsed / 2, (gap[0], elapsed)


def test_evaluations_on_threads_match_one_thread(fmnist, batch8):
    m = lrpx.Model(fmnist)
    jobs = [(batch8[i:i + 2], metric) for i in range(0, 8, 2)
            for metric in ("region-perturbation:patch-size=7", "max-sensitivity:nr-samples=2")]
    want = [m.eval(x, metric, seed=3) for x, metric in jobs]
    got = [None] * len(jobs)
    errors = []

    def work(k):
        try:
            for i in range(k, len(jobs), 3):
                x, metric = jobs[i]
                got[i] = m.eval(x, metric, seed=3)
        except Exception as e:                     # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for g, w in zip(got, want):
        assert g.rows() == w.rows()
