"""The container image: built with podman, its sets those of the host (pytest -m image)."""
