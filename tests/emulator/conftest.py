"""Fixtures of the emulator conformance suite: a fresh emulator per test and pydo clients."""
import pytest

from emulator.testing import running_emulator


@pytest.fixture
def emu():
    with running_emulator(phase_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture
def staging(emu):
    """(pydo client of the staging account, staging app id); retries off so faults show."""
    return emu.client("staging", retry_total=0), emu.app_ids["staging"]
