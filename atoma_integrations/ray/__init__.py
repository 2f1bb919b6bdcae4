"""Ray Data batch inference: complete, chat or embed a column of a ``Dataset``.

``CompleteColumn``, ``ChatColumn`` and ``EmbedColumn`` are callable classes for
``Dataset.map_batches`` (actor pools): requests on the async client, at most
``max_in_flight`` per actor, results and usage in new columns, and a failed row either
failing the job with its typed error (default) or recorded in an error column.
``map_column`` runs one on a dataset with the right Ray settings. See docs/scale_out.md
for the by-hand recipe and how to size a run.

Importing this module does not import Ray (``map_column`` does, when called).
"""

from atoma_integrations.ray._columns import (
    USAGE_COLUMNS,
    ChatColumn,
    ColumnMapper,
    CompleteColumn,
    EmbedColumn,
    OnError,
)
from atoma_integrations.ray._dataset import DEFAULT_ACTOR_CPUS, DEFAULT_BATCH_SIZE, map_column

__all__ = [
    "DEFAULT_ACTOR_CPUS",
    "DEFAULT_BATCH_SIZE",
    "USAGE_COLUMNS",
    "ChatColumn",
    "ColumnMapper",
    "CompleteColumn",
    "EmbedColumn",
    "OnError",
    "map_column",
]
