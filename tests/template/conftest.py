import pytest

from dynamo_harness.helm import everything_on as everything_on_values
from dynamo_harness.paths import overlay_names


@pytest.fixture(params=overlay_names())
def overlay(request) -> str:
    """Each overlay under values/, the test id being the overlay's name."""
    return request.param


@pytest.fixture(scope="session")
def everything_on():
    """everything_on(overlay) -> values turning on every component the overlay allows."""
    return everything_on_values
