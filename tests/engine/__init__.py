"""The engine tier: tests that run the real Pulumi CLI (marker `engine`)."""
