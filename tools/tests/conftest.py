"""The tools' tests share the package tests' fixtures: a real HTTP server on 127.0.0.1 and a private data folder."""

from tests.conftest import data_home, http_server  # noqa: F401 (fixtures, found by name)
