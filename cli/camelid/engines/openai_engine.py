"""Any OpenAI-compatible server, first of all `vllm serve` on loopback.

Requests run with bounded concurrency; connection failures, 429 and 5xx are retried with
exponential backoff; other refusals (400: a prompt too long) become that record's error.
The API key is read from an environment variable and never appears in messages or lineage.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from camelid.engines.base import Generation, Prompt, Result, TokenChoice
from camelid.engines.options import EngineOptions
from camelid.errors import TemporaryFailure, UsageError
from camelid.sampling import Sampling

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIEngine:
    def __init__(self, options: EngineOptions, model: str | None = None):
        self.base_url = (options.base_url or "").rstrip("/")
        self.options = options
        # Stray whitespace (a file saved with CRLF) would make httpx refuse the header and
        # quote it, key and all, in its error.
        key = os.environ.get(options.api_key_env, "").strip()
        if any(not 32 < ord(c) < 127 for c in key):
            raise UsageError(
                f"${options.api_key_env}: the API key holds a space, control or non-ASCII "
                "character, which an HTTP header cannot carry"
            )
        self._key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(options.request_timeout, connect=10.0),
            limits=httpx.Limits(max_connections=options.concurrency),
        )
        self.model = model or self._served_model()

    def generate(
        self, prompts: Sequence[Prompt], sampling: Sampling, seeds: Sequence[int] | None = None
    ) -> list[Result]:
        per_prompt = list(seeds) if seeds else [sampling.seed] * len(prompts)
        pairs = zip(prompts, per_prompt, strict=True)
        jobs = [functools.partial(self._one, p, sampling, s) for p, s in pairs]
        return run_concurrently(jobs, self.options.concurrency)

    def close(self) -> None:
        self.client.close()

    def _served_model(self) -> str:
        data = self._request("GET", "/models", None)
        models = [m["id"] for m in data.get("data", [])] if isinstance(data, dict) else []
        if not models:
            raise TemporaryFailure(f"{self.base_url}/models lists no model; pass --model")
        return models[0]

    def _one(self, prompt: Prompt, sampling: Sampling, seed: int | None) -> Result:
        body: dict[str, Any] = {
            "model": self.model,
            "n": sampling.n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.stop:
            body["stop"] = sampling.stop
        for penalty in ("presence_penalty", "frequency_penalty"):
            if getattr(sampling, penalty):
                body[penalty] = getattr(sampling, penalty)
        if seed is not None:
            body["seed"] = seed
        if sampling.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": sampling.json_schema, "strict": True},
            }
        if isinstance(prompt, str):
            path, body["prompt"] = "/completions", prompt
            if sampling.logprobs:
                body["logprobs"] = sampling.logprobs
        else:
            path, body["messages"] = "/chat/completions", prompt
            if sampling.logprobs:
                body["logprobs"], body["top_logprobs"] = True, sampling.logprobs
        data = self._request("POST", path, body)
        if isinstance(data, str):  # the server refused this request: the record's error
            return Result(error=data)
        usage = data.get("usage") or {}
        choices = sorted(data.get("choices", []), key=lambda c: c.get("index", 0))
        return Result(
            generations=[
                Generation(
                    text=(c.get("message") or {}).get("content") or c.get("text") or "",
                    finish_reason=c.get("finish_reason") or "stop",
                    prompt_tokens=usage.get("prompt_tokens", 0),
                    completion_tokens=usage.get("completion_tokens", 0) // max(1, len(choices)),
                    logprobs=token_choices(c.get("logprobs")) if sampling.logprobs else None,
                )
                for c in choices
            ]
        )

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        """JSON reply; a string for a request the server refused; raises when it stays down."""
        last = ""
        for attempt in range(self.options.max_retries + 1):
            if attempt:
                time.sleep(min(30.0, 0.5 * 2**attempt) * (0.5 + random.random()))
            try:
                response = self.client.request(method, path, json=body)
            except httpx.TransportError as exc:
                last = self._redact(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}: {_message(response, self._key)}"
                wait = retry_after(response)
                if wait is not None and attempt < self.options.max_retries:
                    time.sleep(wait)  # the server said when; the backoff below adds to it
                continue
            if response.status_code >= 400:
                why = _message(response, self._key)
                return f"server refused the request (HTTP {response.status_code}): {why}"
            try:  # strict, unlike response.json(): a lone surrogate could never be written out
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                return f"server sent a reply that is not valid JSON: {str(exc).split(': line ')[0]}"
        raise TemporaryFailure(
            f"{self.base_url}{path} failed after {self.options.max_retries + 1} tries ({last})"
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[API key]") if self._key else text


def token_choices(data: Any) -> list[TokenChoice] | None:
    """Per-token logprobs as a chat completion (`content`) or a completion (`tokens`,
    `top_logprobs`) gives them."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("content"), list):
        return [
            TokenChoice(item.get("token", ""),
                        {t["token"]: t["logprob"] for t in item.get("top_logprobs") or []}
                        | {item.get("token", ""): item.get("logprob", 0.0)})
            for item in data["content"]
        ]  # fmt: skip
    tokens, tops = data.get("tokens") or [], data.get("top_logprobs") or []
    return [TokenChoice(t, dict(top or {})) for t, top in zip(tokens, tops, strict=False)]


def retry_after(response: httpx.Response, most: float = 120.0) -> float | None:
    """Seconds a 429 or 503 asks the client to wait (Retry-After: seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), most)


def run_concurrently(jobs: list[Callable[[], Result]], workers: int) -> list[Result]:
    """Each job's result, in order, with at most `workers` running at once. The workers are
    daemon threads: when Ctrl-C or SIGTERM stops the run, it does not wait for the requests
    still queued or in flight (a thread pool would wait for every one of them)."""
    results: list[Result | None] = [None] * len(jobs)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(jobs)):
        todo.put(i)
    done = threading.Semaphore(0)
    failure: list[BaseException] = []

    def work() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = jobs[i]()
            except BaseException as exc:  # noqa: BLE001  handed to the caller
                failure.append(exc)
            done.release()

    for _ in range(min(workers, len(jobs))):
        threading.Thread(target=work, daemon=True).start()
    for _ in jobs:
        done.acquire()  # interruptible: a signal's exception ends the wait at once
        if failure:
            while not todo.empty():  # the others stop taking new requests
                with contextlib.suppress(queue.Empty):
                    todo.get_nowait()
            raise failure[0]
    return [r if r is not None else Result(error="not run") for r in results]


def _message(response: httpx.Response, key: str = "") -> str:
    """The server's error text, without the API key (a careless server may repeat it)."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message", error)
    text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    if key:
        text = text.replace(key, "[API key]")
    return " ".join(text.split())[:300]
