package com.acme.orders;

import org.springframework.web.bind.annotation.*;

@RestController
@RequestMapping("/orders")
public class OrderController {
    private final OrderService service;

    public OrderController(OrderService service) {
        this.service = service;
    }

    @PostMapping("/{id}/status")
    public Order changeStatus(@PathVariable long id, @RequestParam OrderStatus status) {
        return service.changeStatus(id, status);
    }
}
