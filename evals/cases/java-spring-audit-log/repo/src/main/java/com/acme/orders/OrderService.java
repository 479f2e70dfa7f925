package com.acme.orders;

import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class OrderService {
    private final OrderRepository orders;

    public OrderService(OrderRepository orders) {
        this.orders = orders;
    }

    @Transactional
    public Order changeStatus(long id, OrderStatus status) {
        Order order = orders.findById(id).orElseThrow();
        order.setStatus(status);
        return orders.save(order);
    }
}
