import braintree


class BraintreeGateway:
    """All card payments go through Braintree."""

    def __init__(self, gateway: braintree.BraintreeGateway) -> None:
        self.gateway = gateway

    def charge(self, order_id: str, amount: str) -> str:
        result = self.gateway.transaction.sale({"amount": amount, "order_id": order_id})
        return result.transaction.id

    def refund_all(self, transaction_id: str) -> None:
        self.gateway.transaction.refund(transaction_id)
