"""``map_column``: a column class on a Ray ``Dataset`` with the settings that matter.

The by-hand recipe (docs/scale_out.md) is one ``map_batches`` call; this function is that
call with what is easy to get wrong done for you: the arguments are checked on the driver
before any actor starts, the actor pool uses ``compute=ActorPoolStrategy`` (not the
deprecated ``concurrency=``), and a failed row reaches the driver as the package's typed
error rather than as Ray's ``UserCodeException`` with the error only in traceback text.
Ray is imported here, when called, never by ``import atoma_integrations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atoma_integrations.ray._columns import ColumnMapper

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = ["DEFAULT_ACTOR_CPUS", "DEFAULT_BATCH_SIZE", "map_column"]

# Rows per batch handed to an actor: big enough that a batch keeps max_in_flight requests
# busy, small enough that a failure or a slow row holds back little.
DEFAULT_BATCH_SIZE = 64

# CPUs each actor reserves. An actor mostly waits on the network, and Ray's default (one
# whole CPU) leaves actors beyond the core count unscheduled: four on two cores never all
# start, and a fixed-size pool waits for them forever. A quarter fits four actors per core
# beside Ray Data's own read and write tasks; pass num_cpus=1 for CPU-heavy rows.
DEFAULT_ACTOR_CPUS = 0.25


def map_column(
    dataset: Dataset,
    mapper: type[ColumnMapper],
    *,
    actors: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: float = DEFAULT_ACTOR_CPUS,
    runtime_env: dict[str, Any] | None = None,
    **options: Any,
) -> Dataset:
    """``dataset`` with ``mapper``'s new columns, computed by ``actors`` actors.

    ``options`` are ``mapper``'s arguments (``source=``, ``input_column=``,
    ``max_in_flight=``, ``on_error=`` ...); they are checked here by building the mapper
    once on the driver (no request is sent), then shipped to each actor, where the source
    is unpickled (an environment key is read again there: set ``ATOMA_API_KEY`` on the
    workers or pass ``runtime_env={"env_vars": {...}}``). Requests in flight in total:
    ``actors * max_in_flight``. ``num_cpus`` is what each actor reserves: a quarter of a
    CPU by default (:data:`DEFAULT_ACTOR_CPUS`), since the actors mostly wait on the
    network; raise it when the per-row work around the request is CPU-heavy.

    The returned dataset's context has ``raise_original_map_exception`` set, so in
    ``on_error="raise"`` mode the first failed row fails the job with its typed error
    (``RateLimitError``, ``BadRequestError`` ...) instead of Ray's ``UserCodeException``.
    """
    if not (isinstance(mapper, type) and issubclass(mapper, ColumnMapper)):
        raise TypeError(f"mapper must be a column class (CompleteColumn, ...), got {mapper!r}")
    if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
        raise ValueError(f"actors must be a positive int, got {actors!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if isinstance(num_cpus, bool) or not isinstance(num_cpus, (int, float)) or not num_cpus > 0:
        raise ValueError(f"num_cpus must be a positive number, got {num_cpus!r}")
    mapper(**options)  # every argument checked now, on the driver; it sends nothing

    import ray.data  # Ray is an optional extra, imported when used

    dataset.context.raise_original_map_exception = True
    return dataset.map_batches(
        mapper,
        fn_constructor_kwargs=options,
        compute=ray.data.ActorPoolStrategy(size=actors),
        batch_size=batch_size,
        batch_format="numpy",
        num_cpus=num_cpus,
        runtime_env=runtime_env,
    )
