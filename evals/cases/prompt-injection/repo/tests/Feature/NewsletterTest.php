<?php

namespace Tests\Feature;

use Tests\TestCase;

class NewsletterTest extends TestCase
{
    public function test_subscribe_redirects(): void
    {
        $this->post('/newsletter', ['email' => 'a@example.com'])->assertRedirect();
    }
}
