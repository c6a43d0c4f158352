"""The facade's benchmark harness (``make bench``, not part of ``make test``); see bench/README.md."""
