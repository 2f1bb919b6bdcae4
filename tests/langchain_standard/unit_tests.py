"""Unit checks every LangChain text-completion LLM should pass (no server needed).

Mirrors ``langchain_tests.unit_tests.ChatModelUnitTests``: init with the standard
parameters, init from the environment, streaming flag, tracing parameters, serialization
round-trip; plus what process pools and logs need: pickling and no secret in any text form.
"""

from __future__ import annotations

import pickle
import time
from typing import Any, Literal

import pytest
from langchain_core.language_models.llms import BaseLLM
from langchain_core.load import dumpd, dumps, load
from pydantic import BaseModel, ValidationError


class _ExpectedLsParams(BaseModel):
    """The shape LangSmith expects from ``_get_ls_params`` (as the chat suite checks it)."""

    ls_provider: str
    ls_model_name: str
    ls_model_type: Literal["llm"]
    ls_temperature: float | None = None
    ls_max_tokens: int | None = None
    ls_stop: list[str] | None = None


class LLMUnitTests:
    """Subclass as ``Test...`` and fill in the properties marked "required"."""

    @property
    def llm_class(self) -> type[BaseLLM]:
        """Required: the class under test."""
        raise NotImplementedError

    @property
    def llm_params(self) -> dict[str, Any]:
        """Required: constructor arguments (model, a fake key, a base URL...)."""
        raise NotImplementedError

    @property
    def secret(self) -> str:
        """Required: the key inside ``llm_params``; it must never show up in text."""
        raise NotImplementedError

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any]]:
        """Required: (environment variables, constructor arguments) for an env-only init."""
        raise NotImplementedError

    @property
    def standard_llm_params(self) -> dict[str, Any]:
        """The parameters every LangChain model accepts (as in ChatModelUnitTests)."""
        return {"temperature": 0, "max_tokens": 100, "timeout": 60, "stop": [], "max_retries": 2}

    def make(self, **overrides: Any) -> BaseLLM:
        return self.llm_class(**{**self.standard_llm_params, **self.llm_params, **overrides})

    def test_init(self) -> None:
        llm = self.make()
        assert isinstance(llm, BaseLLM)
        for name, value in self.standard_llm_params.items():
            assert getattr(llm, name) == value, name

    def test_init_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        env, kwargs = self.init_from_env_params
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        llm = self.llm_class(**kwargs)
        secrets = [env[name] for name in llm.lc_secrets.values() if name in env]
        assert secrets, "init_from_env_params should set the secret's variable"
        for value in secrets:
            assert value not in repr(llm) and value not in dumps(llm)

    def test_init_streaming(self) -> None:
        assert getattr(self.make(streaming=True), "streaming", None) is True

    def test_invalid_setting_fails_at_construction(self) -> None:
        with pytest.raises(ValidationError, match="temperature"):
            self.make(temperature=-1.0)

    def test_standard_params(self) -> None:
        llm = self.make(stop=["END"], temperature=0.5, max_tokens=42)
        params = _ExpectedLsParams.model_validate(llm._get_ls_params())
        assert (params.ls_temperature, params.ls_max_tokens, params.ls_stop) == (
            0.5,
            42,
            ["END"],
        )
        assert params.ls_model_name == self.llm_params["model"]

    def test_standard_params_model_override(self) -> None:
        assert self.make()._get_ls_params(model="other-model")["ls_model_name"] == "other-model"

    def test_identifying_params_separate_configurations(self) -> None:
        # They are LangChain's cache key: a different temperature is a different answer.
        low, high = self.make(temperature=0.0), self.make(temperature=1.0)
        assert low._identifying_params != high._identifying_params
        assert self.secret not in str(low._identifying_params)

    @pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
    def test_serdes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        llm = self.make()
        assert llm.is_lc_serializable()
        data = dumpd(llm)
        (env_name,) = {v for v in llm.lc_secrets.values()}
        monkeypatch.setenv(env_name, self.secret)
        loaded = load(
            data,
            valid_namespaces=[self.llm_class.__module__.split(".")[0]],
            allowed_objects=[self.llm_class],
            secrets_from_env=True,
        )
        assert type(loaded) is type(llm)
        assert dumpd(loaded) == data
        assert loaded._identifying_params == llm._identifying_params

    def test_secret_never_in_text(self) -> None:
        llm = self.make()
        for text in (repr(llm), str(llm), dumps(llm), str(llm.model_dump())):
            assert self.secret not in text

    def test_pickle_round_trip(self) -> None:
        llm = self.make()
        copy = pickle.loads(pickle.dumps(llm))
        assert type(copy) is type(llm)
        assert copy._identifying_params == llm._identifying_params

    def test_init_is_cheap(self) -> None:
        # ChatModelUnitTests benchmarks 10 inits; building many per request must not hurt.
        started = time.perf_counter()
        for _ in range(100):
            self.make()
        assert time.perf_counter() - started < 2.0
