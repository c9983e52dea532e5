"""Live updates: Convex subscriptions through the official client, streamed as SSE."""
