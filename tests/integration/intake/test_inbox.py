"""The inbox on both stores: what is pending, redeliveries, and the worker's claims."""

from tests.helpers import drain, make_catalog, order, submit


def test_redeliveries_do_not_count_as_pending(runtime, db) -> None:
    make_catalog(db, skus={"A": 10})
    submit(runtime, order("o1", [("A", 1)]))
    for _ in range(3):  # ignored: each attempt may still use up an id of the inbox file
        assert submit(runtime, order("o1", [("A", 1)])).duplicates == 1
    submit(runtime, order("o2", [("A", 1)]))
    assert runtime.inbox.pending(100) == 2
    assert runtime.inbox.pending(1) == 1
    drain(runtime)
    assert runtime.inbox.pending(100) == 0
    submit(runtime, order("o1", [("A", 1)]), order("o3", [("A", 1)]))
    assert runtime.inbox.pending(100) == 1
