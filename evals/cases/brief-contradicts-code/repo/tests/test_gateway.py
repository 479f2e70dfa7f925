from payments.history import OrderHistory


def test_history_keeps_order() -> None:
    history = OrderHistory("o-1")
    history.add("charged")
    assert history.events == ["charged"]
