"""A toy capability, added through its manifest alone (the kernel issue's proof of the shape)."""
