"""The kernel: what every capability builds on; imports no capability."""
