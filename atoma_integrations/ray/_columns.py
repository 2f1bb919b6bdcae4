"""Callable classes for ``Dataset.map_batches``: a request per row, many in flight.

Each class reads one input column of a batch, sends a request per row (per group of
rows for embeddings) on the async client, at most ``max_in_flight`` at once per actor
across every batch the actor is working on, and returns the batch with new columns: the
result, the usage counts, optionally the signer and, in ``on_error="column"`` mode, the
error. Rows keep their
order; none is dropped or added.

What a request is (complete a prompt, answer messages, embed texts) is a
:data:`~atoma_integrations.ray._calls.RowsCall` chosen from the source; this module only
does the column bookkeeping, the bounding and the error policy, the same for every kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias

from atoma_integrations._concurrency import gather_bounded
from atoma_integrations.errors import AtomaError
from atoma_integrations.ray._calls import (
    Counts,
    RowResult,
    RowsCall,
    chat_call,
    close_clients_at_exit,
    completion_call,
    embedding_call,
    one_row_per_request,
)

__all__ = [
    "USAGE_COLUMNS",
    "ChatColumn",
    "ColumnMapper",
    "CompleteColumn",
    "EmbedColumn",
    "OnError",
]

OnError: TypeAlias = Literal["raise", "column"]
"""``"raise"``: the first failed row fails the job with its typed error (after the
client's retries). ``"column"``: a failed row gets None results and its error in the
error column, and every other row goes on."""

USAGE_COLUMNS = ("prompt_tokens", "completion_tokens", "total_tokens")
"""The usage counts, one int column each per row (None when unknown or failed), named
``<usage_prefix><count>``; embeddings have no ``completion_tokens`` column."""

# What a failed row records in "column" mode: the request failed (typed error after the
# client's retries) or the row's value could not be sent (wrong type, invalid content).
# Anything else is a bug and fails the job in both modes.
_ROW_ERRORS = (AtomaError, ValueError, TypeError)

# The default number of requests one actor keeps in flight.
DEFAULT_MAX_IN_FLIGHT = 16


def _rebuild(cls: type[ColumnMapper], kwargs: dict[str, Any]) -> ColumnMapper:
    return cls(**kwargs)


def _object_array(values: Sequence[Any]) -> Any:
    """A 1-d numpy object array of ``values`` (numpy would turn a list of lists into 2-d)."""
    import numpy as np  # Ray Data brings numpy; the core never needs it

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class ColumnMapper:
    """The shared machinery of the column classes; subclasses say how to build the call."""

    default_input_column: ClassVar[str] = ""
    """The input column when none is given."""
    default_output_column: ClassVar[str] = ""
    """The result column when none is given."""
    usage_names: ClassVar[tuple[str, ...]] = USAGE_COLUMNS
    """The usage columns this kind of request reports (embeddings have no completion)."""
    rows_per_request: int = 1
    """Rows sent in one request (more than one only where the API takes a list)."""

    def __init__(
        self,
        source: object,
        *,
        input_column: str | None = None,
        output_column: str | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        on_error: OnError = "raise",
        error_column: str = "error",
        usage_columns: bool = True,
        usage_prefix: str | None = None,
        signer_column: str | None = None,
        model: str | None = None,
        **params: Any,
    ) -> None:
        self._init_kwargs: dict[str, Any] = {
            "source": source,
            "input_column": input_column,
            "output_column": output_column,
            "max_in_flight": max_in_flight,
            "on_error": on_error,
            "error_column": error_column,
            "usage_columns": usage_columns,
            "usage_prefix": usage_prefix,
            "signer_column": signer_column,
            "model": model,
            **params,
        }
        if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int):
            raise TypeError(f"max_in_flight must be an int, got {max_in_flight!r}")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if on_error not in ("raise", "column"):
            raise ValueError(f"on_error must be 'raise' or 'column', got {on_error!r}")
        self.input_column = input_column or self.default_input_column
        """The column whose values are sent, one request per row."""
        self.output_column = output_column or self.default_output_column
        """The new column with each row's result (None for a failed row)."""
        self.max_in_flight = max_in_flight
        """Most requests in flight at once in one actor (all its batches together)."""
        self.on_error = on_error
        """What a failed row does: fail the job (``raise``) or fill ``error_column``."""
        self.error_column = error_column
        """The new column with ``"ErrorClass: message"`` per failed row (``column`` mode)."""
        self.usage_columns = usage_columns
        """Add the usage columns (``<prefix>prompt_tokens``, ``..completion_tokens``, ...)."""
        if usage_prefix is not None and not isinstance(usage_prefix, str):
            raise TypeError(f"usage_prefix must be a string, got {usage_prefix!r}")
        # Named after the step's own output column by default, so two steps on one dataset
        # (ChatColumn then EmbedColumn) each keep their counts; "" gives the bare names.
        prefix = f"{self.output_column}_" if usage_prefix is None else usage_prefix
        self.usage_column_names = tuple(prefix + name for name in self.usage_names)
        """The usage columns' names, in the order of :attr:`usage_names`."""
        self.signer_column = signer_column
        """The new column with the Sui address that signed each row's answer (None for a
        failed row); only with a source that verifies signatures (``verify_signatures`` /
        ``trusted_signers`` on the client or adapter). None: no such column."""
        new = [self.output_column]
        if usage_columns:
            new += self.usage_column_names
        if signer_column is not None:
            if not _verifies(source):
                raise ValueError(
                    f"{type(self).__name__}: signer_column needs a source that verifies "
                    "signatures (verify_signatures=True or trusted_signers=[...] on it)"
                )
            new.append(signer_column)
        if on_error == "column":
            new.append(error_column)
        for name in (self.input_column, *new):
            if not isinstance(name, str) or not name:
                raise ValueError(f"column names must be non-empty strings, got {name!r}")
        if len(set(new)) != len(new) or self.input_column in new:
            raise ValueError(f"the input and new column names must differ: {new}")
        self._new_columns = tuple(new)
        self._call: RowsCall = self._rows_call(source, model, params)
        self._semaphore: asyncio.Semaphore | None = None

    def _rows_call(self, source: object, model: str | None, params: Mapping[str, Any]) -> RowsCall:
        """The request for a group of ``rows_per_request`` rows, built from the source."""
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its arguments: the source pickles by its own rules (an environment
        # key is not written, an explicit one travels), the call and semaphore are rebuilt.
        return (_rebuild, (type(self), self._init_kwargs))

    def __repr__(self) -> str:
        source = type(self._init_kwargs["source"]).__name__
        return (
            f"{type(self).__name__}(source={source}, input_column={self.input_column!r}, "
            f"output_column={self.output_column!r}, max_in_flight={self.max_in_flight}, "
            f"on_error={self.on_error!r})"
        )

    # -- one batch -----------------------------------------------------------------------

    async def __call__(self, batch: Any) -> Any:
        """Send one request per row of ``batch``; return it with the new columns."""
        values = self._input_values(batch)
        if self._semaphore is None:
            # Made here, on the actor's event loop; shared by the batches it runs at once.
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
            # That loop runs in a thread of the actor that is never shut down: its clients
            # are closed at the worker's exit, or aiohttp warns "Unclosed client session".
            close_clients_at_exit()
        semaphore = self._semaphore
        keep_errors = self.on_error == "column"

        def task(rows: list[Any]) -> Callable[[], Any]:
            async def run() -> Sequence[RowResult | BaseException]:
                async with semaphore:
                    try:
                        results = await self._call(rows)
                        if len(results) != len(rows):
                            # A row without its result would shift every later row.
                            raise AtomaError(
                                f"{len(results)} results came back for {len(rows)} rows"
                            )
                        return results
                    except _ROW_ERRORS as error:
                        if not keep_errors:
                            raise
                        # Every row of a failed request failed with it.
                        return [error] * len(rows)

            return run

        # Each request is its own task; the semaphore is the bound. On an error in "raise"
        # mode the requests still in flight are cancelled, which closes their connections.
        size = self.rows_per_request
        groups = [values[i : i + size] for i in range(0, len(values), size)]
        done = await gather_bounded([task(g) for g in groups], max(1, len(groups)))
        outcomes = [outcome for group in done for outcome in group]
        return self._with_columns(batch, self._columns(outcomes))

    def _input_values(self, batch: Any) -> list[Any]:
        if isinstance(batch, Mapping):
            columns = list(batch)
        elif hasattr(batch, "assign") and hasattr(batch, "columns"):
            columns = list(batch.columns)
        else:
            raise TypeError(
                f"{type(self).__name__} takes batches as a dict of columns or a pandas "
                "DataFrame (map_batches batch_format='numpy' or 'pandas'), got "
                f"{type(batch).__name__}"
            )
        if self.input_column not in columns:
            raise KeyError(
                f"{type(self).__name__}: the batch has no column {self.input_column!r} "
                f"(it has {columns}); pass input_column=..."
            )
        clash = [name for name in self._new_columns if name in columns]
        if clash:
            raise ValueError(
                f"{type(self).__name__} would overwrite the batch's column(s) {clash}: "
                "choose other names (output_column, usage_prefix, error_column) or drop "
                "them first"
            )
        return list(batch[self.input_column])

    def _columns(self, outcomes: Sequence[RowResult | BaseException]) -> dict[str, Any]:
        results: list[Any] = []
        usages: list[Counts] = []
        signers: list[str | None] = []
        errors: list[str | None] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                results.append(None)
                usages.append(None)
                signers.append(None)
                errors.append(f"{type(outcome).__name__}: {outcome}")
            else:
                results.append(outcome.value)
                usages.append(outcome.usage)
                signers.append(outcome.signer)
                errors.append(None)
        columns: dict[str, Any] = {self.output_column: self._result_array(results)}
        if self.usage_columns:
            for name, column in zip(self.usage_names, self.usage_column_names, strict=True):
                at = USAGE_COLUMNS.index(name)
                columns[column] = _int_array([u[at] if u is not None else None for u in usages])
        if self.signer_column is not None:
            columns[self.signer_column] = _object_array(signers)
        if self.on_error == "column":
            columns[self.error_column] = _object_array(errors)
        return columns

    def _result_array(self, results: list[Any]) -> Any:
        """The result column; subclasses with non-scalar results shape it their way."""
        return _object_array(results)

    @staticmethod
    def _with_columns(batch: Any, columns: dict[str, Any]) -> Any:
        if isinstance(batch, Mapping):
            return {**batch, **columns}
        # pandas: a new frame, the caller's batch is left as it was.
        return batch.assign(**columns)


def _verifies(source: object) -> bool:
    """Whether ``source`` (a client or an adapter) checks signatures."""
    return bool(getattr(source, "verify_signatures", False)) or bool(
        getattr(source, "trusted_signers", None)
    )


def _int_array(values: list[int | None]) -> Any:
    import numpy as np

    if any(v is None for v in values):
        return _object_array(values)
    return np.asarray(values, dtype=np.int64)


class CompleteColumn(ColumnMapper):
    """Complete each row's prompt: ``completion`` (text) and usage columns.

    The usage columns are ``completion_prompt_tokens``, ``completion_completion_tokens``
    and ``completion_total_tokens`` (named after ``output_column``; ``usage_prefix=""``
    gives the bare ``prompt_tokens`` ...).

    ``source`` is an ``AtomaClient`` / ``AsyncAtomaClient`` (then pass ``model=`` and
    generation parameters under the client's names, checked here, before any request) or
    an ``AtomaLLM`` (LangChain) / ``Atoma`` (LlamaIndex), which carries its own model and
    parameters and is called through its own ``agenerate`` / ``acomplete``.

    Example::

        ds = ds.map_batches(
            CompleteColumn,
            fn_constructor_kwargs={"source": llm, "input_column": "prompt"},
            compute=ray.data.ActorPoolStrategy(size=2),
            batch_size=64,
        )
    """

    default_input_column = "prompt"
    default_output_column = "completion"

    def _rows_call(self, source: object, model: str | None, params: Mapping[str, Any]) -> RowsCall:
        return one_row_per_request(completion_call(source, model, params))


class ChatColumn(ColumnMapper):
    """Answer each row's messages: ``response`` (the reply's text) and usage columns
    (``response_prompt_tokens`` ...).

    A row is a string (one user message) or a list of ``{"role", "content"}`` messages;
    ``system_prompt`` is put first when set. ``source`` is an ``AtomaClient`` /
    ``AsyncAtomaClient`` (then pass ``model=`` and chat parameters under the client's names)
    or a ``ChatAtoma`` (LangChain) / ``AtomaChat`` (LlamaIndex), called through its own
    ``ainvoke`` / ``achat``. The column holds the text content; tool calls are not kept.
    """

    default_input_column = "messages"
    default_output_column = "response"

    def __init__(self, source: object, *, system_prompt: str | None = None, **options: Any) -> None:
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise TypeError(f"system_prompt must be a string, got {system_prompt!r}")
        self.system_prompt = system_prompt
        """A system message put before each row's messages (None: none)."""
        super().__init__(source, **options)
        self._init_kwargs["system_prompt"] = system_prompt

    def _rows_call(self, source: object, model: str | None, params: Mapping[str, Any]) -> RowsCall:
        return one_row_per_request(chat_call(source, model, params, self.system_prompt))


class EmbedColumn(ColumnMapper):
    """Embed each row's text: ``embedding`` (a float32 vector) and usage columns
    (``embedding_prompt_tokens``, ``embedding_total_tokens``).

    ``inputs_per_request`` rows go in one request (the API takes a list); the request's
    usage is on its first row and zeros on the others, so the columns sum to what was
    billed. ``source`` is an ``AtomaClient`` / ``AsyncAtomaClient`` (then pass ``model=``
    and ``dimensions`` / ``user`` ...) or an ``AtomaEmbeddings`` (LangChain) /
    ``AtomaEmbedding`` (LlamaIndex), which report no usage (the columns are then None).
    """

    default_input_column = "text"
    default_output_column = "embedding"
    usage_names = ("prompt_tokens", "total_tokens")

    def __init__(self, source: object, *, inputs_per_request: int = 32, **options: Any) -> None:
        if isinstance(inputs_per_request, bool) or not isinstance(inputs_per_request, int):
            raise TypeError(f"inputs_per_request must be an int, got {inputs_per_request!r}")
        if inputs_per_request < 1:
            raise ValueError(f"inputs_per_request must be at least 1, got {inputs_per_request}")
        self.rows_per_request = inputs_per_request
        super().__init__(source, **options)
        self._init_kwargs["inputs_per_request"] = inputs_per_request

    def _rows_call(self, source: object, model: str | None, params: Mapping[str, Any]) -> RowsCall:
        return embedding_call(source, model, params)

    def _result_array(self, results: list[Any]) -> Any:
        import numpy as np

        vectors = [None if r is None else np.asarray(r, dtype=np.float32) for r in results]
        sizes = {v.shape for v in vectors if v is not None}
        if len(sizes) == 1 and all(v is not None for v in vectors):
            # One 2-d array: Ray stores it as a fixed-shape tensor column.
            return np.stack(vectors)  # type: ignore[arg-type]
        return _object_array(vectors)
