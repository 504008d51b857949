"""The reader pool (grading/pool.py): a worker that dies, panics, runs out of memory or time
is replaced, its item comes back failed with a code, and every other item is done."""

from __future__ import annotations

import pickle
import sys
import time

import pool_work
import pytest

from audit_xls.grading.pool import READER_FAILED, READER_TIMEOUT, Limits, ReaderPool


@pytest.fixture
def readers():
    made: list[ReaderPool] = []

    def make(jobs: int, **limits) -> ReaderPool:
        made.append(ReaderPool(jobs, Limits(**limits), pool_work.setup, pool_work.work))
        return made[-1]

    yield make
    for pool in made:
        pool.close()


def run(pool: ReaderPool, items):
    return pool.map({"factor": 10}, items, pool_work.failed)


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_item_done_in_order_whatever_kills_a_worker(readers, jobs):
    items = [("ok", i) for i in range(40)]
    items[3] = ("abort",)
    items[17] = ("exit",)
    items[18] = ("panic",)
    items[30] = ("abort",)
    pool = readers(jobs, seconds=30)
    results = run(pool, items)
    expected = [("ok", i * 10) for i in range(40)]
    expected[3] = (READER_FAILED, "reader process ended by SIGABRT")
    expected[17] = (READER_FAILED, "reader process ended with exit code 3")
    expected[18] = (READER_FAILED, "Panic: index out of bounds")  # caught in the worker
    expected[30] = (READER_FAILED, "reader process ended by SIGABRT")
    if sys.platform == "win32":  # no signals: an abort is exit code 3
        expected[3] = expected[30] = (READER_FAILED, "reader process ended with exit code 3")
    assert results == expected
    assert pool.started == jobs + 3  # three replacements, no process per item
    # the pool is reused by the next batch: no new process
    assert run(pool, [("ok", 1)] * 5) == [("ok", 10)] * 5
    assert pool.started == jobs + 3


def test_results_a_dead_worker_had_not_sent_are_read_again_and_the_item_it_died_on_is_blamed(
    readers,
):
    """Results come back a chunk at a time: a worker that dies on an item (reading it or
    pickling its result) leaves that item failed, and the items of its chunk it had read
    before are read again."""
    pool = readers(1, seconds=30)
    items = [("ok", i) for i in range(40)]
    items[5] = ("exit",)  # the first chunk is 0 to 9: 0 to 4 were read, not sent
    items[20] = ("ends_when_pickled",)
    results = pool.map({"factor": 10}, items, pool_work.failed)
    assert results[5] == results[20] == (READER_FAILED, "reader process ended with exit code 3")
    assert [r for i, r in enumerate(results) if i not in (5, 20)] == [
        ("ok", i * 10) for i in range(40) if i not in (5, 20)
    ]
    assert pool.started == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="closes its pipe via /proc")
def test_a_worker_ending_between_items_blames_none_then_at_most_one(readers):
    """A worker that ends between items (here: its pipe closed, so its reply cannot go)
    blames no item, and its items are sent again; ending so a second time, the first of them
    is blamed, so that no batch can loop."""
    pool = readers(1, seconds=30)
    items = [("ok", i) for i in range(8)] + [("ends_when_sent", 8), ("ok", 9)]
    assert pool.map({"factor": 10}, items, pool_work.failed) == [
        *[("ok", i * 10) for i in range(8)],
        (READER_FAILED, "reader process ended with exit code 1"),
        ("ok", 90),
    ]
    assert pool.started == 3  # ended twice between items: sent again once, then blamed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="closes its pipe via /proc")
def test_a_worker_ending_between_items_again_blames_the_item_whose_reply_was_going_out(readers):
    """Its chunk (0 to 9) read, the worker ends sending: no item is blamed and the ten are sent
    again one by one, so ending again, it ends sending item 5's reply: 5 alone is blamed, not
    the honest items at the head of the chunk one after another (an attacker's review)."""
    pool = readers(1, seconds=30)
    items = [("ok", i) for i in range(40)]
    items[5] = ("ends_when_sent", 5)
    results = pool.map({"factor": 10}, items, pool_work.failed)
    assert [i for i, r in enumerate(results) if r[0] == READER_FAILED] == [5]
    assert pool.started == 3


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX (Windows: Job Object)")
def test_large_results_each_within_the_ceiling_are_not_failed_for_sharing_a_chunk(readers):
    """40 results of 12 MB under a 200 MB ceiling: each leaves the worker pickled on its own
    and the worker sends them before holding much; held for a whole chunk (10 here) and
    pickled together, most failed with MemoryError (an attacker's review)."""
    pool = readers(1, memory_mb=200, seconds=30)
    results = pool.map({"factor": 1}, [("big", 12)] * 40, pool_work.failed)
    assert [(r[0], len(r[1])) for r in results] == [("big", 12 << 20)] * 40


class SlowToKill(ReaderPool):
    """A grading process descheduled between deciding that a reader is over its time limit
    and stopping it (a loaded machine): the reader goes on meanwhile."""

    def _stop(self, worker):
        if worker.process.is_alive():
            time.sleep(0.5)
        super()._stop(worker)


def test_the_time_limit_blames_the_item_that_ran_over_not_the_one_begun_since():
    """Item 0 takes 1.5 s against a 1 s limit; item 1 (0.6 s) is honest. The item blamed is
    the one the worker was seen on when the limit passed (an attacker's review)."""
    pool = SlowToKill(1, Limits(seconds=1.0), pool_work.setup, pool_work.work)
    try:
        results = run(pool, [("sleep", 1.5), ("sleep", 0.6), ("ok", 2)])
    finally:
        pool.close()
    assert results == [(READER_TIMEOUT, "1"), ("ok", 6.0), ("ok", 20)]


def test_large_results_leave_a_worker_before_its_chunk_ends(readers, monkeypatch):
    """Results of a few MB each (pictures' bytes, when grade has no spool) are sent once they
    reach FLUSH_BYTES, not held until the chunk ends."""
    pool = readers(1, seconds=30)
    items = [("big", 3)] * 9 + [("ok", 1)] * 31  # the first chunk is 0 to 9
    results = pool.map({"factor": 10}, items, pool_work.failed)
    assert results == [("big", bytes(3 << 20))] * 9 + [("ok", 10)] * 31


def test_an_item_over_the_time_limit_is_stopped_and_the_rest_retried(readers):
    pool = readers(1, seconds=1.0)
    results = run(pool, [("ok", 1), ("sleep", 30), ("ok", 2), ("ok", 3)])
    assert results == [("ok", 10), (READER_TIMEOUT, "1"), ("ok", 20), ("ok", 30)]


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX (Windows: Job Object)")
def test_an_item_over_the_memory_limit_fails_alone(readers):
    pool = readers(2, memory_mb=400, seconds=30)
    results = run(pool, [("alloc", 10), ("alloc", 2000), ("ok", 4)])
    assert results == [("allocated", 10 << 20), (READER_FAILED, "MemoryError"), ("ok", 40)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_warms_up_once_before_its_set_up_and_a_failed_warm_up_is_no_failure(jobs):
    """The warm-up (grade's reader imports) runs once per process while the caller gets its
    configuration ready; every worker is set up and reads. One that fails changes nothing:
    the set-up meets the same problem and says so."""
    for warm, expected in ((pool_work.warm, ["warm"]), (pool_work.failing_warm, [])):
        pool = ReaderPool(jobs, Limits(seconds=30), pool_work.setup, pool_work.work, warm)
        try:
            pool.launch()
            items = [("warmed",)] * 8 + [("ok", 2)]
            assert run(pool, items) == [("warmed", expected)] * 8 + [("ok", 20)]
            assert run(pool, [("warmed",)]) == [("warmed", expected)]  # not again per batch
            assert pool.started == jobs
            processes = [w.process for w in pool.workers]
        finally:
            pool.close()
        # told to stop, a worker leaves at once (no tear-down for the caller to wait for)
        assert [p.exitcode for p in processes] == [0] * jobs


def test_progress_counts_every_item(readers):
    seen = []
    pool = readers(2, seconds=30)
    pool.map({"factor": 1}, [("ok", i) for i in range(9)] + [("abort",)], pool_work.failed,
             lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [d for d, _ in seen] == list(range(11))


def test_grade_sends_back_a_file_whose_reader_died_or_stalled_and_grades_the_rest(
    shipped_standard, tmp_path
):
    """Through grade itself: one source aborts its reader, one stalls it; the good file is
    graded and the two come back with their codes and messages, in both languages."""
    import functools
    import os
    import time

    from audit_xls.grading import grade
    from audit_xls.grading.sources import Source
    from audit_xls.model.diagnostics import message

    stall = functools.partial(time.sleep, 30)
    sources = [
        Source("abort.xlsx", 10, None, os.abort),
        Source("stall.xlsx", 10, None, stall),
        Source("empty.xlsx", 0, None, bytes),
    ]
    for lang in ("zh", "en"):
        config = grade._Config((shipped_standard,), None, lang, "")
        results = grade._grade_all(sources, config, 1, None, Limits(seconds=1.5))
        codes = [[d.code for d in r.diagnostics] for r in results]
        assert codes == [[READER_FAILED], [READER_TIMEOUT], ["file.empty"]]
        died = "reader process ended by SIGABRT" if sys.platform != "win32" else "exit code 3"
        assert died in results[0].diagnostics[0].message
        assert results[1].diagnostics[0].message == message(READER_TIMEOUT, lang, seconds="1.5")


def test_results_cross_as_tuples_and_come_back_equal(shipped_standard, tmp_path):
    """What a reader sends back (plain tuples) rebuilds the very result grade_one made."""
    from datetime import date

    from returns import fill

    from audit_xls.grading import grade
    from audit_xls.grading.sites import Site
    from audit_xls.grading.sources import folder_sources
    from audit_xls.workbook.build import build_workbook

    issued = build_workbook(
        shipped_standard, Site("T01", "项目", "华东"), "2026-11", issued_on=date(2026, 11, 1)
    )
    answers = {"1.1.01": ("不符合", None, "未填点数"), "1.1.02": ("不适用", None)}
    (tmp_path / "a.xlsx").write_bytes(
        fill(issued, shipped_standard, answers, default=("符合", None))
    )
    (tmp_path / "b.xlsx").write_bytes(b"not a workbook")
    checker = grade._make_checker(grade._Config((shipped_standard,), None, "zh", ""))
    for source in folder_sources(tmp_path):
        made = grade.grade_one(source, checker)
        pickled, kind = grade._grade_in_worker(checker, source)
        packed = pickle.loads(pickled)  # pickled in the reader: kept as it came for the history
        assert kind == 0 and all(not hasattr(v, "__dict__") for v in packed[:11])
        assert grade._unpack(packed, (shipped_standard,)) == made
    assert made.diagnostics and made.card is None  # b.xlsx: sent back


def test_a_task_handed_to_an_idle_worker_talks_or_is_known_dead(readers):
    pool = readers(1)
    assert run(pool, [("ok", 1)]) == [("ok", 10)]
    call = pool.call(pool_work.task, "hello")
    assert call is not None and call.send(("go",))
    assert call.receive() == ("echo", "hello", ("go",))
    assert run(pool, [("ok", 2)]) == [("ok", 20)]  # the worker reads on
    failing = pool.call(pool_work.task, "raise")
    assert failing is not None and failing.receive() is None
    dying = pool.call(pool_work.task, "exit")
    assert dying is not None and dying.receive() is None
    dying.abandon()
    assert pool.call(pool_work.task, "hello") is None  # no worker up until the next map
    assert run(pool, [("ok", 3)]) == [("ok", 30)]


def test_a_reader_grades_without_a_yaml_parser_its_templates_come_parsed(
    shipped_standard, tmp_path
):
    """grade's readers adopt the templates the grading process parsed (sent with their set-up)
    instead of importing PyYAML and parsing them again, and grade as before."""
    from datetime import date

    from returns import fill

    from audit_xls.grading import grade, readers
    from audit_xls.grading.sites import Site
    from audit_xls.workbook.build import build_workbook

    issued = build_workbook(
        shipped_standard, Site("T01", "项目", "华东"), "2026-11", issued_on=date(2026, 11, 1)
    )
    (tmp_path / "a.xlsx").write_bytes(fill(issued, shipped_standard, {}, default=("符合", None)))
    batch = grade.grade_returns(tmp_path, [shipped_standard], None, jobs=1)
    assert [w.status for w in batch.workbooks] == [grade.GRADED]
    call = readers.tail_pool(1).call(pool_work.imported, ["yaml", "audit_xls.grading.validate"])
    assert call is not None and call.receive() == ("imported", ["audit_xls.grading.validate"])
