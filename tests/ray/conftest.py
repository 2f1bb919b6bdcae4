"""One local Ray cluster for the whole test session, on 127.0.0.1 only.

Starting Ray costs 7-18 s and a job's first workers about 10 s more on this machine, so
every Ray test shares one cluster (2 CPUs, no dashboard), shut down when the session ends.
The cluster starts only when a Ray test runs (``-m "not ray"`` skips the cost).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

# Ray turns 127.0.0.1 into the machine's outward address and listens on every interface
# unless told this is a single-machine cluster; its switch for that is this variable,
# named for the platforms where it is the default. It is read when ray is imported.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import pytest
import ray
import ray.data


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[dict[str, Any]]:
    """A started local Ray cluster; yields ``ray.init``'s address info."""
    # Ray's workers inherit the environment of this moment: no Atoma variables, so a key a
    # test sees in a worker came from that test's runtime_env, never from the developer.
    if ray.is_initialized():
        # The docs' examples (tests/docs/harness.py) start their own cluster, with
        # ATOMA_BASE_URL on its workers; these tests need one without it.
        ray.shutdown()
    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        configure_logging=True,
        logging_level=logging.WARNING,
        log_to_driver=False,
        runtime_env={"env_vars": {"ATOMA_API_KEY": "", "ATOMASDK_BEARER_AUTH": ""}},
    )
    assert context.address_info["node_ip_address"] == "127.0.0.1"
    data = ray.data.DataContext.get_current()
    data.enable_progress_bars = False
    data.print_on_execution_start = False
    try:
        yield dict(context.address_info)
    finally:
        ray.shutdown()
