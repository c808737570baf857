"""Client for the ARR reward service (`arr serve`, or the service `train-*` starts).

Standard library only (urllib), Python >= 3.9. Drop-in for the reference trainers' judge call:

    from arr_reward_client import get_reward_single
    rewards = asyncio.run(get_reward_single({"query": prompt, "response": [img_a, img_b]}, device))

The URL and token come from ARR_REWARD_URL and ARR_REWARD_TOKEN unless given. A failed judgement raises
(as the reference does); it never turns into a made-up reward.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

__all__ = ["RewardClient", "RewardServiceError", "rewards", "get_reward_single"]

_RETRY_STATUS = (502, 503, 504)


class RewardServiceError(RuntimeError):
    """The reward service refused or failed a request; `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


def _image(value: Any) -> str:
    value = os.fspath(value)
    if value.startswith("data:"):
        return value
    return os.path.abspath(value)


def _normalise(item: Dict[str, Any]) -> Dict[str, Any]:
    images = item.get("images", item.get("response"))
    if images is None:
        raise ValueError("an item needs `images` (or the reference's `response`): a list of image paths")
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    out: Dict[str, Any] = {"query": item.get("query") or item.get("prompt") or item.get("instruction") or "", "images": [_image(p) for p in images]}
    source = item.get("source_image")
    if source:
        out["source_image"] = _image(source)
    return out


class RewardClient:
    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 600.0, retries: int = 8, max_backoff: float = 30.0):
        self.url = (url or os.environ.get("ARR_REWARD_URL") or "").rstrip("/")
        self.token = token or os.environ.get("ARR_REWARD_TOKEN") or ""
        if not self.url:
            raise RewardServiceError("no reward service URL: pass url= or set ARR_REWARD_URL (arr serve prints it)")
        if not self.token:
            raise RewardServiceError("no reward service token: pass token= or set ARR_REWARD_TOKEN (arr serve prints it)")
        self.timeout = timeout
        self.retries = retries
        self.max_backoff = max_backoff

    def rewards(self, items: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Rewards for each item: [{"rewards": [...], "ranks": [...] | None, "agree": bool | None}], in order."""
        body = json.dumps({"items": [_normalise(i) for i in items]}).encode("utf-8")
        return self._post("/v1/rewards", body)["results"]

    def health(self) -> Dict[str, Any]:
        with urllib.request.urlopen(self.url + "/healthz", timeout=self.timeout) as r:
            return json.loads(r.read())

    def _post(self, path: str, body: bytes) -> Dict[str, Any]:
        headers = {"Content-Type": "application/json", "Authorization": "Bearer " + self.token}
        for attempt in range(self.retries + 1):
            wait: Optional[float] = None
            try:
                request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")
                try:
                    text = json.loads(text).get("error", text)
                except (ValueError, AttributeError):
                    pass
                if e.code not in _RETRY_STATUS or attempt >= self.retries:
                    hint = " (check ARR_REWARD_TOKEN)" if e.code == 401 else ""
                    raise RewardServiceError("reward service %s answered HTTP %d: %s%s" % (self.url, e.code, text, hint), e.code) from None
                retry_after = e.headers.get("Retry-After") if e.headers else None
                if retry_after:
                    try:
                        wait = float(retry_after)
                    except ValueError:
                        wait = None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt >= self.retries:
                    reason = getattr(e, "reason", e)
                    raise RewardServiceError("cannot reach the reward service at %s: %s" % (self.url, reason)) from None
            backoff = min(self.max_backoff, 0.5 * 2 ** attempt) * (0.5 + random.random() / 2)
            time.sleep(max(wait or 0.0, backoff))
        raise AssertionError("unreachable")


_default: Optional[RewardClient] = None


def _client() -> RewardClient:
    global _default
    if _default is None:
        _default = RewardClient()
    return _default


def rewards(items: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`RewardClient().rewards(items)` with the URL and token from the environment."""
    return _client().rewards(items)


async def get_reward_single(item: Dict[str, Any], device: Any = None):
    """As the reference `Judger.get_reward_single`: the item's rewards as a float32 tensor on `device`
    (a list when torch is not installed). Raises on any failure, as the reference does."""
    client = _client()
    if hasattr(asyncio, "to_thread"):
        results = await asyncio.to_thread(client.rewards, [item])
    else:  # pragma: no cover
        results = await asyncio.get_running_loop().run_in_executor(None, client.rewards, [item])
    values = [float(v) for v in results[0]["rewards"]]
    try:
        import torch  # type: ignore
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32, device=device)
