"""One real vLLM engine (default model, CPU here) shared by every test of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from camelid.engines.options import EngineOptions

# Short enough that an over-long prompt is cheap to build, long enough for the packs.
TEST_CONTEXT = 2048


@pytest.fixture(scope="session")
def vllm_engine() -> Iterator[object]:
    from camelid.engines.vllm_engine import VLLMEngine
    from camelid.models import DEFAULT_MODEL, resolve_model

    options = EngineOptions(max_model_len=TEST_CONTEXT, seed=0)
    engine = VLLMEngine(options, model_path=resolve_model(DEFAULT_MODEL), model_name=DEFAULT_MODEL)
    yield engine
    engine.close()
