from dataclasses import dataclass, field


@dataclass
class OrderHistory:
    order_id: str
    events: list[str] = field(default_factory=list)

    def add(self, event: str) -> None:
        self.events.append(event)
