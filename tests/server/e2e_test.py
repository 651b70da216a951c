#!/usr/bin/env python3
"""End-to-end test of `seek serve` driven by the official `openai` Python client (pinned in seek.sh).

Starts a real server on SmolLM2-135M-Instruct (env SEEK_SMOLLM2) on a free port and checks chat and
completions (streaming and not), n=2, stop strings, logprobs, seeded reproducibility, /v1/models, /health,
/metrics, /tokenize, /detokenize, tools reaching the chat template, OpenAI-shaped errors (400 naming the field, 401 for a wrong key, 429 when
the queue is full), a client that hangs up mid-stream, and the R1 reasoning split (SmolLM2 with the
R1-Distill chat template through --chat-template-file).

Exit code 77 (ctest: skipped) when the model, the seek binary or the openai package is missing.
Usage: e2e_test.py [SEEK_BIN]
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

SKIP = 77
try:
    import openai
except ImportError:
    print("skipped: the openai package is not installed (./seek.sh test installs it into $BUILD/pyenv)")
    sys.exit(SKIP)

MODEL = os.environ.get("SEEK_SMOLLM2", "")
SEEK = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SEEK_BIN", "")
SHARED = os.environ.get("SEEK_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
R1_TEMPLATE = os.path.join(SHARED, "tokenizers/chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")
KEY = "test-key-123"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *extra):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a full pipe would block the server
        self.proc = subprocess.Popen(
            [SEEK, "serve", "-m", MODEL, "--port", str(self.port), "-c", "512", "-t", "2", "--api-key", KEY, *extra],
            stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.health_codes = set()
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("seek serve exited: " + self.log.read())
            try:
                code, _ = self.get("/health", auth=False)
                self.health_codes.add(code)
                if code == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("seek serve did not become ready")
        self.client = openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key=KEY, max_retries=0,
                                    timeout=120)

    def request(self, method, path, body=None, auth=True, key=KEY):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + key
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = conn.getresponse()
        data = r.read().decode()
        conn.close()
        return r.status, data

    def get(self, path, auth=True):
        return self.request("GET", path, auth=auth)

    def metrics(self):
        code, text = self.get("/metrics")
        assert code == 200
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


MSGS = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("--parallel", "2")
        cls.c = cls.srv.client

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_health_models_tokenize(self):
        self.assertIn(200, self.srv.health_codes)
        self.assertTrue(self.srv.health_codes <= {200, 503})
        models = self.c.models.list()
        self.assertEqual(models.data[0].id, os.path.basename(MODEL))
        code, body = self.srv.request("POST", "/tokenize", {"content": "Hello world"})
        self.assertEqual(code, 200)
        ids = json.loads(body)["tokens"]
        self.assertGreater(len(ids), 0)
        code, body = self.srv.request("POST", "/detokenize", {"tokens": ids})
        self.assertEqual(json.loads(body)["content"], "Hello world")

    def test_chat_stream_equals_non_stream(self):
        r = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=24)
        text = r.choices[0].message.content
        self.assertIn("Paris", text)
        self.assertIn(r.choices[0].finish_reason, ("stop", "length"))
        self.assertGreater(r.usage.prompt_tokens, 10)
        self.assertEqual(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens)
        chunks = list(self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=24,
                                                     stream=True, stream_options={"include_usage": True}))
        streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        self.assertEqual(streamed, text)
        finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
        self.assertEqual(finishes, [r.choices[0].finish_reason])
        self.assertEqual(chunks[-1].choices, [])
        self.assertEqual(chunks[-1].usage.completion_tokens, r.usage.completion_tokens)
        # The same prompt again: its prefix comes from a slot's KV cache.
        self.assertGreater(chunks[-1].usage.prompt_tokens_details.cached_tokens, 0)

    def test_completions(self):
        r = self.c.completions.create(model="x", prompt="The capital of France is", temperature=0, max_tokens=8)
        text = r.choices[0].text
        self.assertTrue(text)
        s = "".join(ch.choices[0].text for ch in self.c.completions.create(
            model="x", prompt="The capital of France is", temperature=0, max_tokens=8, stream=True) if ch.choices)
        self.assertEqual(s, text)
        r2 = self.c.completions.create(model="x", prompt="The capital of France is", temperature=0, max_tokens=8,
                                       echo=True, logprobs=2)
        self.assertEqual(r2.choices[0].text, "The capital of France is" + text)
        lp = r2.choices[0].logprobs
        self.assertEqual(len(lp.tokens), r2.usage.completion_tokens - (r2.choices[0].finish_reason == "stop"))
        self.assertEqual(len(lp.top_logprobs[0]), 2)
        self.assertEqual("".join(lp.tokens), text)

    def test_n_and_seed(self):
        kw = dict(model="x", messages=[{"role": "user", "content": "Write a word."}], temperature=1.0,
                  max_tokens=12, seed=42)
        a = self.c.chat.completions.create(n=2, **kw)
        self.assertEqual(len(a.choices), 2)
        self.assertEqual(sorted(ch.index for ch in a.choices), [0, 1])
        b = self.c.chat.completions.create(n=2, **kw)
        self.assertEqual([ch.message.content for ch in a.choices], [ch.message.content for ch in b.choices])
        streamed = {0: "", 1: ""}
        for ch in self.c.chat.completions.create(n=2, stream=True, **kw):
            for c in ch.choices:
                streamed[c.index] += c.delta.content or ""
        self.assertEqual([streamed[0], streamed[1]], [ch.message.content for ch in a.choices])

    def test_stop(self):
        full = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=24)
        text = full.choices[0].message.content
        stop = text[5:8]
        r = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=24,
                                           stop=[stop, "zzzz"])
        self.assertEqual(r.choices[0].message.content, text[:text.find(stop)])
        self.assertEqual(r.choices[0].finish_reason, "stop")

    def test_logprobs(self):
        r = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=6, logprobs=True,
                                           top_logprobs=3)
        content = r.choices[0].logprobs.content
        self.assertGreater(len(content), 0)
        for e in content:
            self.assertEqual(len(e.top_logprobs), 3)
            self.assertLessEqual(e.logprob, 0)
            self.assertEqual(e.token, e.top_logprobs[0].token)  # greedy: the chosen token is the most likely
            self.assertAlmostEqual(e.logprob, e.top_logprobs[0].logprob, places=5)
            self.assertEqual(bytes(e.bytes).decode("utf-8", "replace"), e.token)
        self.assertEqual("".join(e.token for e in content), r.choices[0].message.content)

    def test_errors(self):
        with self.assertRaises(openai.BadRequestError) as cm:
            self.c.chat.completions.create(model="x", messages=MSGS, temperature=5)
        err = cm.exception.body
        self.assertEqual(cm.exception.status_code, 400)
        self.assertEqual(err["param"], "temperature")
        self.assertEqual(err["type"], "invalid_request_error")
        self.assertIn("temperature", err["message"])
        with self.assertRaises(openai.BadRequestError) as cm:
            self.c.chat.completions.create(model="x", messages=[{"role": "wizard", "content": "x"}])
        self.assertIn("wizard", cm.exception.body["message"])
        with self.assertRaises(openai.BadRequestError) as cm:
            self.c.completions.create(model="x", prompt="word " * 600, max_tokens=4)
        self.assertIn("context", cm.exception.body["message"])
        bad = openai.OpenAI(base_url=f"http://127.0.0.1:{self.srv.port}/v1", api_key="wrong", max_retries=0)
        with self.assertRaises(openai.AuthenticationError) as cm:
            bad.models.list()
        self.assertEqual(cm.exception.status_code, 401)
        self.assertEqual(cm.exception.body["code"], "invalid_api_key")
        code, body = self.srv.request("POST", "/v1/chat/completions", None)
        self.assertEqual(code, 400)
        self.assertIn("error", json.loads(body))
        code, body = self.srv.get("/v1/nothing")
        self.assertEqual(code, 404)
        self.assertEqual(set(json.loads(body)["error"]), {"message", "type", "param", "code"})
        self.assertEqual(self.srv.get("/health", auth=False)[0], 200)

    def test_disconnect_mid_stream_then_serve(self):
        before = self.srv.metrics().get("seek_sequences_cancelled_total", 0)
        sock = socket.create_connection(("127.0.0.1", self.srv.port))
        body = json.dumps({"messages": [{"role": "user", "content": "Tell me a very long story."}],
                           "stream": True, "max_tokens": 400, "ignore_eos": True}).encode()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                     b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        got = b""
        while got.count(b"data: ") < 3:
            got += sock.recv(4096)
        sock.close()  # hang up mid-stream
        deadline = time.time() + 60
        while self.srv.metrics().get("seek_sequences_cancelled_total", 0) <= before:
            self.assertLess(time.time(), deadline, "the engine never freed the cancelled sequence")
            time.sleep(0.1)
        r = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=4)
        self.assertTrue(r.choices[0].message.content)

    def test_disconnect_non_streaming_cancels(self):
        # A non-streaming request writes nothing until it is done, so the server must notice the hang-up
        # without a failed write (server/peer_socket.h).
        before = self.srv.metrics().get("seek_sequences_cancelled_total", 0)
        gen_before = self.srv.metrics().get("seek_generated_tokens_total", 0)
        sock = socket.create_connection(("127.0.0.1", self.srv.port))
        body = json.dumps({"messages": [{"role": "user", "content": "Tell me a very long story."}],
                           "max_tokens": 400, "ignore_eos": True}).encode()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                     b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        deadline = time.time() + 60
        while self.srv.metrics().get("seek_generated_tokens_total", 0) <= gen_before:  # it is decoding
            self.assertLess(time.time(), deadline, "the request never started")
            time.sleep(0.05)
        sock.close()  # hang up before any response byte
        while self.srv.metrics().get("seek_sequences_cancelled_total", 0) <= before:
            self.assertLess(time.time(), deadline, "the engine never freed the abandoned sequence")
            time.sleep(0.1)
        m = self.srv.metrics()
        self.assertGreaterEqual(m.get('seek_requests_total{endpoint="/v1/chat/completions",status="499"}', 0), 1)
        r = self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=4)
        self.assertTrue(r.choices[0].message.content)

    def test_metrics(self):
        self.c.chat.completions.create(model="x", messages=MSGS, temperature=0, max_tokens=2)
        m = self.srv.metrics()
        self.assertGreaterEqual(m['seek_requests_total{endpoint="/v1/chat/completions",status="200"}'], 1)
        self.assertGreater(m["seek_generated_tokens_total"], 0)
        self.assertGreater(m["seek_prompt_tokens_total"], 0)
        self.assertEqual(m["seek_slots"], 2)
        self.assertGreater(m['seek_time_to_first_token_seconds_bucket{le="+Inf"}'], 0)
        self.assertGreater(m["seek_request_duration_seconds_count"], 0)
        self.assertIn("seek_kv_cache_usage_ratio", m)
        self.assertIn("seek_queue_depth", m)


class ReasoningTest(unittest.TestCase):
    """SmolLM2 with DeepSeek-R1-Distill's chat template: the prompt ends with "<think>\\n"."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(R1_TEMPLATE):
            raise unittest.SkipTest("../shared is missing")
        cls.srv = Server("--chat-template-file", R1_TEMPLATE, "--parallel", "1", "--queue", "1")
        cls.c = cls.srv.client
        code, body = cls.srv.request("POST", "/tokenize", {"content": "</think>"})
        cls.close_ids = json.loads(body)["tokens"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def ask(self, **kw):
        return self.c.chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}],
                                              temperature=0, max_tokens=10, **kw)

    def test_reasoning_without_closing_tag(self):
        raw = self.ask(extra_body={"reasoning_format": "none"}).choices[0].message
        split = self.ask().choices[0].message
        self.assertFalse(hasattr(raw, "reasoning_content") and raw.reasoning_content)
        # No </think> in the output: all of it is reasoning (the template opened the block).
        self.assertNotIn("</think>", raw.content)
        self.assertEqual(split.reasoning_content, raw.content.strip())
        self.assertEqual(split.content, "")

    def test_forced_closing_tag(self):
        bias = {str(i): 30 for i in self.close_ids}
        bias.update({str(i): 30 for i in json.loads(self.srv.request("POST", "/tokenize", {"content": "Ok"})[1])["tokens"]})
        raw = self.ask(logit_bias=bias, extra_body={"separate_reasoning": False}).choices[0].message.content
        self.assertIn("</think>", raw)
        want_reasoning, want_content = raw.split("</think>", 1)
        msg = self.ask(logit_bias=bias).choices[0].message
        self.assertEqual(msg.reasoning_content, want_reasoning.strip())
        self.assertEqual(msg.content, want_content.lstrip())
        reasoning, content = "", ""
        for ch in self.ask(logit_bias=bias, stream=True):
            d = ch.choices[0].delta if ch.choices else None
            if d is not None:
                reasoning += getattr(d, "reasoning_content", None) or ""
                content += d.content or ""
        self.assertEqual(reasoning, msg.reasoning_content)
        self.assertEqual(content, msg.content)

    def test_queue_full_429(self):
        long_req = dict(model="x", messages=[{"role": "user", "content": "Story"}], max_tokens=160,
                        extra_body={"ignore_eos": True})
        results = []

        def run():
            try:
                results.append(self.c.chat.completions.create(**long_req).choices[0].finish_reason)
            except Exception as e:  # noqa: BLE001
                results.append(e)

        # Wait on the server's gauges, not on the clock: under load a fixed sleep let the third request arrive
        # before the second was queued (then it is queued, not refused).
        threads = [threading.Thread(target=run) for _ in range(2)]
        deadline = time.time() + 60
        for t, gauge in zip(threads, ("seek_active_slots", "seek_queue_depth")):
            t.start()
            while self.srv.metrics().get(gauge, 0) < 1:
                self.assertLess(time.time(), deadline, gauge + " never reached 1")
                time.sleep(0.02)
        with self.assertRaises(openai.RateLimitError) as cm:
            self.ask()
        self.assertEqual(cm.exception.response.headers.get("retry-after"), "1")
        for t in threads:
            t.join()
        self.assertEqual(results, ["length", "length"])


class ToolsTest(unittest.TestCase):
    """tools reach the chat template (Qwen2.5's renders them into the system prompt)."""

    def test_tools_are_rendered(self):
        tmpl = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "../testdata/chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja")
        srv = Server("--chat-template-file", tmpl)
        try:
            kw = dict(model="x", messages=[{"role": "user", "content": "Weather in Paris?"}], temperature=0,
                      max_tokens=2)
            plain = srv.client.chat.completions.create(**kw)
            tools = [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
                                                       "parameters": {"type": "object", "properties": {
                                                           "city": {"type": "string"}}}}}]
            with_tools = srv.client.chat.completions.create(tools=tools, tool_choice="auto", **kw)
            self.assertGreater(with_tools.usage.prompt_tokens, plain.usage.prompt_tokens + 20)
            self.assertIn(with_tools.choices[0].finish_reason, ("stop", "length"))
        finally:
            srv.stop()


if __name__ == "__main__":
    if not MODEL or not os.path.exists(MODEL):
        print("skipped: SEEK_SMOLLM2 is not set")
        sys.exit(SKIP)
    if not SEEK or not os.path.exists(SEEK):
        print("skipped: no seek binary (pass it as the first argument or in SEEK_BIN)")
        sys.exit(SKIP)
    # Extra arguments after the binary are unittest's (e.g. -k disconnect).
    result = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[2:], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
