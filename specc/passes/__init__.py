"""Graph-level passes: build (names resolved into the IR) and shapes (inference)."""
