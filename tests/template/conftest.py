import pytest

from dynamo_harness.paths import overlay_names


@pytest.fixture(params=overlay_names())
def overlay(request) -> str:
    """Each overlay under values/, the test id being the overlay's name."""
    return request.param
