"""Development tooling: start the embedded backend, run the stack, mint dev tokens."""
