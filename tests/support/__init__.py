"""Helpers that tests import (pytest puts the repository root on ``sys.path``): ``tests.support.*``.

Fixtures belong in a ``conftest.py``; plain functions and classes that several test
folders need live here, one concept per module.
"""
