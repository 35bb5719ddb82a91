"""The assistant (issue 14): Vietnamese questions → the product's own queries → answers that carry
their proof. See docs/assistant.md."""
