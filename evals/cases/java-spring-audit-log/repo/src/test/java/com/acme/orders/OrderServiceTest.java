package com.acme.orders;

import org.junit.jupiter.api.Test;

class OrderServiceTest {
    @Test
    void changesStatus() {}
}
