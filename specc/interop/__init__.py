"""Other frameworks' formats: export a spec to ONNX, PyTorch and Keras (and import from them).

Each format keeps one module per layer family, parallel to `specc/ops/<family>.py`, and is
imported only by the commands that need it, with its optional package (`onnx`).
"""
