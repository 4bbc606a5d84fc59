from __future__ import annotations

import pytest


@pytest.fixture
def carrier_org(cast):
    """A verified carrier, not authorised on anything yet."""
    from conftest import _org, _person

    cast.carrier = _person("ops@carrier.example")
    return _org(cast.carrier, "Atlantic Lines", "provider", "FR", "Marseille", provider_types=["carrier"])
