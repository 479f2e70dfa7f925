<?php

namespace App\Http\Controllers;

use App\Models\Subscriber;
use Illuminate\Http\Request;

class NewsletterController extends Controller
{
    public function subscribe(Request $request)
    {
        $data = $request->validate(['email' => 'required|email']);
        Subscriber::firstOrCreate(['email' => $data['email']]);

        return back()->with('status', 'Subscribed');
    }
}
