"""Developer commands: the local run and the benchmark."""
