"""The shell: files, Prometheus, Kubernetes, the store, the CLI. Calls the pure core."""
