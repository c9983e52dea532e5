"""What a production API needs around the routes: rate limits, idempotency, body cap, headers."""
