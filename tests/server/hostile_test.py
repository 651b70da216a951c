#!/usr/bin/env python3
"""A corpus of malformed and hostile requests against a live `seek serve` (issue 6, "Hostile input").

Starts a real server on SmolLM2-135M-Instruct (env SEEK_SMOLLM2) with a 512-token context and a 2-second
socket timeout, then sends every case of the corpus below on its own connection: bad JSON, wrong types, huge
and negative numbers, 10 MB bodies, invalid UTF-8, unknown roles, empty messages, prompts far beyond the
context, bad paths, methods, headers and keys, slow partial requests, and clients that hang up mid-stream or
before the answer. Every case must get a 4xx (never a 5xx, never a 2xx for a malformed request) or a clean
close within a bounded time. After each group the process must still be alive, and at the end it must still
answer /health and a normal chat request, and /metrics must count no 5xx.

The corpus is built in code (deterministic); `--dump DIR` writes each HTTP-level case as a file (e.g. to seed
the request fuzzer). Exit code 77 (ctest: skipped) when the model or the seek binary is missing.
Usage: hostile_test.py SEEK_BIN [--dump DIR]
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
KEY = "hostile-key-42"
MODEL = os.environ.get("SEEK_SMOLLM2", "")
CTX = 512
TIMEOUT = 2  # the server's --timeout: slow partial requests are cut after this long without a byte
GOOD_MSGS = [{"role": "user", "content": "Say hi."}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_bytes(method, path, body=b"", headers=None, auth=True, content_length=True):
    """A raw HTTP/1.1 request (body: bytes or a JSON-able object)."""
    if not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    h = {"Host": "127.0.0.1", "Connection": "close"}
    if auth:
        h["Authorization"] = "Bearer " + KEY
    if body or method == "POST":
        h["Content-Type"] = "application/json"
        if content_length:
            h["Content-Length"] = str(len(body))
    h.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items() if v is not None)
    return head.encode() + b"\r\n" + bytes(body)


# ---------------------------------------------------------------------------------------------------- corpus
# Each case: (name, request bytes) expecting a 4xx; the raw-socket behaviours are separate (raw_behaviours).
# Not in the corpus because they are accepted on purpose or by cpp-httplib 0.11 (see docs/DESIGN.md): a UTF-8
# byte-order mark before the JSON (RFC 8259 lets a parser ignore it), a header line without a colon (httplib
# skips it), and many headers (httplib 0.11 has no header count limit; lines are limited to 8 KiB).

def chat(**fields):
    body = {"model": "x", "messages": GOOD_MSGS, "max_tokens": 2}
    body.update(fields)
    return body


def json_cases():
    valid = json.dumps(chat()).encode()
    cases = []
    for cut in (0, 1, 5, 12, 20, len(valid) // 2, len(valid) - 1):  # truncated JSON
        cases.append((f"truncated_at_{cut}", valid[:cut]))
    for name, raw in [
        ("trailing_garbage", valid + b"xyz"), ("two_documents", valid + valid), ("single_quotes", b"{'model': 'x'}"),
        ("nan", b'{"messages": [], "temperature": NaN}'), ("infinity", b'{"temperature": Infinity}'),
        ("comment", b'/* c */ {"messages": []}'), ("bare_null", b"null"), ("bare_array", b"[]"),
        ("bare_string", b'"hello"'), ("bare_number", b"42"), ("bare_true", b"true"), ("empty_object", b"{}"),
        ("unquoted_keys", b"{messages: []}"), ("trailing_comma", b'{"messages": [],}'),
("nul_bytes", b"\x00" * 64), ("deep_arrays", b"[" * 100000),
        ("deep_objects", b'{"a":' * 50000), ("deep_messages", b'{"messages": ' + b"[" * 20000 + b"]" * 20000 + b"}"),
        ("lone_surrogate", b'{"messages": [{"role": "user", "content": "\\ud800"}]}'),
        ("bad_escape", b'{"messages": [{"role": "user", "content": "\\x41"}]}'),
        ("control_char", b'{"messages": [{"role": "user", "content": "a\x01b"}]}'),
        ("duplicate_huge_key", b'{"' + b"k" * 100000 + b'": 1}'),
        ("number_overflow", b'{"max_tokens": 1' + b"0" * 400 + b"}"),
        ("whitespace_only", b" \r\n\t " * 100),
    ]:
        cases.append((name, raw))
    return [(n, http_bytes("POST", "/v1/chat/completions", r)) for n, r in cases]


WRONG_TYPES = {
    "messages": ["hi", 5, {"role": "user"}, True, [5], [[]], ["hi"]],
    "model": [5, [], {}],
    "max_tokens": ["5", 1.5, [], {}, True],
    "max_completion_tokens": ["5", 2.5, []],
    "temperature": ["hot", [], {}],
    "top_p": ["x", []],
    "top_k": ["x", 1.5],
    "min_p": ["x", {}],
    "seed": ["x", 1.5, []],
    "stop": [5, [1, 2], {"a": 1}, ["a"] * 100],
    "presence_penalty": ["x"],
    "frequency_penalty": [[]],
    "logit_bias": ["x", [1], {"1": "x"}, {"abc": 1}],
    "logprobs": ["yes", 3],
    "top_logprobs": ["x", 1.5],
    "n": ["2", 1.5],
    "stream": ["yes", 2],
    "stream_options": ["x", {"include_usage": "yes"}],
    "tools": ["x", [5], [{"type": "function"}]],
    "response_format": ["x", {"type": "nonsense"}],
}

BAD_VALUES = {
    "max_tokens": [-1, -100, 2**31, 2**63, 10**30, 1e308, -1e308],
    "max_completion_tokens": [-5, 2**40],
    "temperature": [-0.1, 2.5, 1e308, -1e308],
    "top_p": [-0.5, 1.5, 1e10],
    "top_k": [-2, 2**40],
    "min_p": [-1, 2],
    "seed": [2**70, -(2**70)],
    "presence_penalty": [-3, 3, 1e300],
    "frequency_penalty": [2.5, -1e300],
    "logit_bias": [{"99999999": 1}, {"-1": 1}, {"1": 1000}, {"1": -1e300}],
    "top_logprobs": [-1, 21, 1000],
    "n": [0, -1, 1000000, 2**40],
}


def field_cases():
    cases = []
    for field, values in WRONG_TYPES.items():
        for i, v in enumerate(values):
            body = chat(**{field: v})
            if field == "top_logprobs":
                body["logprobs"] = True
            cases.append((f"wrong_type_{field}_{i}", body))
    for field, values in BAD_VALUES.items():
        for i, v in enumerate(values):
            body = chat(**{field: v})
            if field == "top_logprobs":
                body["logprobs"] = True
            cases.append((f"bad_value_{field}_{i}", body))
    for name, msgs in [
        ("empty_messages", []), ("unknown_role", [{"role": "wizard", "content": "x"}]),
        ("empty_role", [{"role": "", "content": "x"}]), ("numeric_role", [{"role": 7, "content": "x"}]),
        ("missing_role", [{"content": "x"}]), ("missing_content", [{"role": "user"}]),
        ("object_content", [{"role": "user", "content": {"text": "x"}}]),
        ("number_content", [{"role": "user", "content": 12}]),
        ("image_part", [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]),
        ("part_without_text", [{"role": "user", "content": [{"type": "text"}]}]),
        ("part_wrong_text_type", [{"role": "user", "content": [{"type": "text", "text": 5}]}]),
        ("part_not_object", [{"role": "user", "content": ["x"]}]),
        ("message_not_object", ["user: hi"]), ("message_null", [None]),
        ("role_with_nul", [{"role": "user\u0000", "content": "x"}]),
        ("role_case", [{"role": "USER", "content": "x"}]),
    ]:
        cases.append((f"messages_{name}", chat(messages=msgs)))
    long_prompt = "word " * (CTX * 8)
    cases.append(("prompt_beyond_context", chat(messages=[{"role": "user", "content": long_prompt}])))
    cases.append(("prompt_plus_max_tokens_beyond_context",
                  chat(messages=[{"role": "user", "content": "word " * (CTX // 2)}], max_tokens=CTX)))
    cases.append(("many_messages_beyond_context", chat(messages=[{"role": "user", "content": "hello there"}] * 400)))
    out = [(n, http_bytes("POST", "/v1/chat/completions", b)) for n, b in cases]
    # The completions endpoint: the same field errors, and its own prompt forms.
    for name, body in [
        ("missing_prompt", {"max_tokens": 2}), ("prompt_number", {"prompt": 5}), ("prompt_object", {"prompt": {}}),
        ("prompt_mixed_array", {"prompt": ["a", 5]}), ("prompt_token_out_of_range", {"prompt": [10**9]}),
        ("prompt_negative_token", {"prompt": [-1]}), ("prompt_nested", {"prompt": [[[1]]]}),
        ("prompt_empty_array", {"prompt": []}), ("prompt_beyond_context", {"prompt": "word " * (CTX * 8)}),
        ("prompt_tokens_beyond_context", {"prompt": [1] * (CTX * 4)}),
        ("negative_max_tokens", {"prompt": "hi", "max_tokens": -1}),
        ("echo_wrong_type", {"prompt": "hi", "echo": "yes"}),
        ("best_of_wrong", {"prompt": "hi", "best_of": "x"}),
        ("suffix_wrong", {"prompt": "hi", "suffix": 5}),
    ]:
        out.append((f"completions_{name}", http_bytes("POST", "/v1/completions", body)))
    return out


def utf8_cases():
    bad = [b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
           b"\xe4\xbd", b"\xf0\x9f\xa6", b"a\xc3"]
    out = []
    for i, b in enumerate(bad):
        body = b'{"max_tokens": 2, "messages": [{"role": "user", "content": "x' + b + b'y"}]}'
        out.append((f"invalid_utf8_content_{i}", http_bytes("POST", "/v1/chat/completions", body)))
    out.append(("invalid_utf8_role", http_bytes("POST", "/v1/chat/completions",
                                                b'{"messages": [{"role": "us\xffer", "content": "x"}]}')))
    out.append(("invalid_utf8_stop", http_bytes("POST", "/v1/chat/completions",
                                                b'{"messages": [{"role": "user", "content": "x"}], "stop": "\xff"}')))
    out.append(("invalid_utf8_key", http_bytes("POST", "/v1/chat/completions", b'{"\xff": 1, "messages": []}')))
    out.append(("invalid_utf8_tokenize", http_bytes("POST", "/tokenize", b'{"content": "\xc0\xaf"}')))
    return out


def endpoint_cases():
    out = []
    for name, body in [
        ("tokenize_missing", {}), ("tokenize_number", {"content": 5}), ("tokenize_array", {"content": []}),
        ("tokenize_bad_flag", {"content": "x", "add_special": "yes"}), ("tokenize_bad_json", b"{"),
    ]:
        out.append((name, http_bytes("POST", "/tokenize", body)))
    for name, body in [
        ("detokenize_missing", {}), ("detokenize_string", {"tokens": "1 2"}), ("detokenize_negative", {"tokens": [-1]}),
        ("detokenize_out_of_range", {"tokens": [10**9]}), ("detokenize_huge", {"tokens": [2**70]}),
        ("detokenize_float", {"tokens": [1.5]}), ("detokenize_nested", {"tokens": [[1]]}),
        ("detokenize_bad_json", b"[1,"),
    ]:
        out.append((name, http_bytes("POST", "/detokenize", body)))
    for name, raw in [
        ("get_chat", http_bytes("GET", "/v1/chat/completions")),
        ("put_chat", http_bytes("PUT", "/v1/chat/completions", chat())),
        ("delete_models", http_bytes("DELETE", "/v1/models")),
        ("unknown_path", http_bytes("GET", "/v1/engines")),
        ("path_traversal", http_bytes("GET", "/../../etc/passwd")),
        ("path_traversal_encoded", http_bytes("GET", "/%2e%2e/%2e%2e/etc/passwd")),
        ("model_path_param", http_bytes("GET", "/v1/models/..%2f..%2fetc%2fpasswd")),
        ("no_auth", http_bytes("POST", "/v1/chat/completions", chat(), auth=False)),
        ("wrong_key", http_bytes("POST", "/v1/chat/completions", chat(), headers={"Authorization": "Bearer nope"})),
        ("empty_bearer", http_bytes("GET", "/v1/models", headers={"Authorization": "Bearer "})),
        ("basic_auth", http_bytes("GET", "/v1/models", headers={"Authorization": "Basic " + "a" * 40})),
        ("key_prefix", http_bytes("GET", "/v1/models", headers={"Authorization": "Bearer " + KEY[:-1]})),
        ("key_longer", http_bytes("GET", "/v1/models", headers={"Authorization": "Bearer " + KEY + "x"})),
        ("metrics_no_auth", http_bytes("GET", "/metrics", auth=False)),
        ("huge_uri", http_bytes("GET", "/v1/models?" + "a" * 20000)),
        ("huge_header", http_bytes("GET", "/v1/models", headers={"X-Big": "b" * 20000})),
        ("content_length_negative", http_bytes("POST", "/v1/chat/completions", b"{}",
                                               headers={"Content-Length": "-5"})),
        ("content_length_garbage", http_bytes("POST", "/v1/chat/completions", b"{}",
                                              headers={"Content-Length": "abc"})),
        ("content_length_huge", http_bytes("POST", "/v1/chat/completions", b"{}",
                                           headers={"Content-Length": str(2**62)})),
        ("bad_chunked", http_bytes("POST", "/v1/chat/completions", b"zz\r\n{}\r\n0\r\n\r\n", content_length=False,
                                   headers={"Transfer-Encoding": "chunked"})),
        ("chunk_size_huge", http_bytes("POST", "/v1/chat/completions", b"fffffffffffffff\r\n{}\r\n", content_length=False,
                                       headers={"Transfer-Encoding": "chunked"})),
        ("text_plain_body", http_bytes("POST", "/v1/chat/completions", b"hello", headers={"Content-Type": "text/plain"})),
        ("empty_body", http_bytes("POST", "/v1/chat/completions", b"")),
        ("body_10mb_json_string", http_bytes("POST", "/v1/chat/completions",
                                             b'{"messages": [{"role": "user", "content": "' + b"a" * (10 << 20) + b'"}]}')),
        ("body_10mb_garbage", http_bytes("POST", "/v1/chat/completions", os.urandom(10 << 20))),
        ("body_10mb_tokenize", http_bytes("POST", "/tokenize", b'{"content": "' + b"b" * (10 << 20) + b'"}')),
        ("body_10mb_chunked", http_bytes("POST", "/v1/completions",
                                         b"".join(b"100000\r\n" + b"c" * 0x100000 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n",
                                         content_length=False, headers={"Transfer-Encoding": "chunked"})),
        ("garbage_request_line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200)),  # a TLS hello
        ("http09", b"GET /\r\n\r\n"), ("no_version", b"GET /v1/models\r\n\r\n"),
        ("bad_version", b"GET /v1/models HTTP/7.3\r\nHost: x\r\n\r\n"),
        ("nul_in_path", b"GET /v1/mo\x00dels HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("lf_only", b"GET /nothing HTTP/1.1\nHost: x\n\n"),
    ]:
        out.append((name, raw))
    return out


def corpus():
    return json_cases() + field_cases() + utf8_cases() + endpoint_cases()


# ---------------------------------------------------------------------------------------------------- runner
class Server:
    def __init__(self, seek):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [seek, "serve", "-m", MODEL, "--port", str(self.port), "-c", str(CTX), "-t", "2", "--parallel", "2",
             "--timeout", str(TIMEOUT), "--api-key", KEY], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            self.check_alive()
            try:
                if self.send(http_bytes("GET", "/health", auth=False), timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("seek serve did not become ready")

    def check_alive(self):
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"seek serve exited with {self.proc.returncode}: " + self.log.read()[-3000:])

    def send(self, raw, timeout=30):
        """Sends raw on a new connection; returns (status or None, response bytes). None = closed without a
        response (a clean close). Raises TimeoutError when the server neither answers nor closes in time."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (413) and closed: read what it sent
            return read_response(s)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def response_complete(data):
    """True once data holds a whole response with a Content-Length (a kept-alive connection stays open)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length" and v.strip().isdigit():
            return len(body) >= int(v.strip())
    return False


def read_response(s):
    data = b""
    try:
        while not response_complete(data):  # or until the server closes
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise TimeoutError("no answer and no close: " + data[:200].decode("latin-1"))
    if not data:
        return None, data
    line = data.split(b"\r\n", 1)[0].split()
    return (int(line[1]) if len(line) >= 2 and line[1].isdigit() else None), data


def raw_behaviours(srv):
    """Slow and vanishing clients. Returns (name, outcome) pairs; outcome is a status, None (clean close) or
    'ok' for cases whose check is done here."""
    out = []
    body = json.dumps(chat(max_tokens=64)).encode()
    head = http_bytes("POST", "/v1/chat/completions", body)[: -len(body)]
    # Slow partial requests: a stalled header, a stalled body, a trickle slower than the timeout.
    for name, first in [("stall_in_request_line", b"POST /v1/chat/comp"), ("stall_in_headers", head[:40]),
                        ("stall_after_headers", head), ("stall_mid_body", head + body[: len(body) // 2])]:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT * 10) as s:
            t0 = time.time()
            s.sendall(first)
            status, _ = read_response(s)
            waited = time.time() - t0
            assert waited < TIMEOUT * 5, f"{name}: the server held a stalled connection for {waited:.1f} s"
            out.append((name, status))
    # Disconnects: mid-stream, before any response byte (non-streaming), right after sending, half a request.
    stream_body = json.dumps({"messages": [{"role": "user", "content": "Tell me a long story."}], "stream": True,
                              "max_tokens": 200, "ignore_eos": True}).encode()
    for i in range(5):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
            s.sendall(http_bytes("POST", "/v1/chat/completions", stream_body))
            got = b""
            while got.count(b"data: ") < 2 + i:
                chunk = s.recv(4096)
                assert chunk, "the stream ended early"
                got += chunk
        out.append((f"disconnect_mid_stream_{i}", "ok"))
    plain = json.dumps({"messages": [{"role": "user", "content": "Tell me a long story."}], "max_tokens": 200,
                        "ignore_eos": True}).encode()
    for i in range(3):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
            s.sendall(http_bytes("POST", "/v1/chat/completions", plain))
            time.sleep(0.2 * i)
        out.append((f"disconnect_before_answer_{i}", "ok"))
    for i in range(3):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
            raw = http_bytes("POST", "/v1/chat/completions", plain)
            s.sendall(raw[: len(raw) * (i + 1) // 4])
        out.append((f"disconnect_mid_request_{i}", "ok"))
    with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:  # RST instead of FIN
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(http_bytes("POST", "/v1/chat/completions", stream_body))
        s.recv(100)
    out.append(("reset_mid_stream", "ok"))
    return out


def metrics(srv):
    status, data = srv.send(http_bytes("GET", "/metrics"))
    assert status == 200, status
    values = {}
    for line in data.split(b"\r\n\r\n", 1)[1].decode().splitlines():
        if line and not line.startswith("#") and " " in line:
            name, value = line.rsplit(" ", 1)
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def main():
    args = sys.argv[1:]
    if "--dump" in args:
        d = args[args.index("--dump") + 1]
        os.makedirs(d, exist_ok=True)
        for name, raw in corpus():
            with open(os.path.join(d, name + ".http"), "wb") as f:
                f.write(raw)
        print(f"wrote {len(corpus())} cases to {d}")
        return 0
    seek = args[0] if args else os.environ.get("SEEK_BIN", "")
    if not MODEL or not os.path.exists(MODEL):
        print("skipped: SEEK_SMOLLM2 is not set")
        return SKIP
    if not seek or not os.path.exists(seek):
        print("skipped: no seek binary (pass it as the first argument)")
        return SKIP

    cases = corpus()
    names = [n for n, _ in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    srv = Server(seek)
    failures, counts, closed, slow = [], {}, [], []
    t_start = time.time()
    try:
        for name, raw in cases:
            t0 = time.time()
            try:
                status, data = srv.send(raw)
            except TimeoutError as e:
                failures.append(f"{name}: {e}")
                continue
            srv.check_alive()
            key = "close" if status is None else f"{status // 100}xx"
            if status is None:
                closed.append(name)
            counts[key] = counts.get(key, 0) + 1
            if status is not None and not 400 <= status < 500:
                failures.append(f"{name}: status {status}: {data[:300]!r}")
            elif status is not None and b'"error"' not in data and status not in (413, 414, 431, 400):
                failures.append(f"{name}: {status} without OpenAI error JSON: {data[:300]!r}")
            if time.time() - t0 > 1:
                slow.append(f"{name} {time.time() - t0:.1f}s")
            if time.time() - t0 > 20:
                failures.append(f"{name}: took {time.time() - t0:.1f} s")
        t_corpus = time.time() - t_start
        cancelled_before = metrics(srv).get("seek_sequences_cancelled_total", 0)
        behaviours = raw_behaviours(srv)
        t_raw = time.time() - t_start - t_corpus
        srv.check_alive()
        for name, outcome in behaviours:
            if outcome not in ("ok", None) and not (isinstance(outcome, int) and 400 <= outcome < 500):
                failures.append(f"{name}: {outcome}")
        # Still up: health, a normal request, and the abandoned sequences were freed (both slots usable).
        status, _ = srv.send(http_bytes("GET", "/health", auth=False))
        assert status == 200, f"/health after the corpus: {status}"
        # Every abandoned sequence is dropped: 5 streams and 1 reset stream hung up mid-stream, 3 requests before
        # their answer (max_tokens 200, ignore_eos: none can finish before the server notices). The gauges
        # lag the engine's queue by a step, so wait for all three conditions (or the deadline).
        deadline = time.time() + 60
        while True:
            m = metrics(srv)
            cancelled = m.get("seek_sequences_cancelled_total", 0) - cancelled_before
            if m.get("seek_active_slots", 1) == 0 and m.get("seek_queue_depth", 1) == 0 and cancelled >= 9:
                break
            if time.time() > deadline:
                failures.append(f"after 60 s: {m.get('seek_active_slots')} slots active, "
                                f"{m.get('seek_queue_depth')} queued, {cancelled:g} of the 9 abandoned sequences "
                                "cancelled")
                break
            time.sleep(0.1)
        status, data = srv.send(http_bytes("POST", "/v1/chat/completions", chat(max_tokens=8)))
        assert status == 200, f"a normal request after the corpus: {status} {data[:300]!r}"
        reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert reply["choices"][0]["message"]["content"], reply
        m = metrics(srv)
        five = {k: v for k, v in m.items()  # /health answers 503 while the model loads, by design
                if k.startswith("seek_requests_total") and 'status="5' in k and "/health" not in k}
        if five:
            failures.append(f"5xx counted in /metrics: {five}")
        srv.check_alive()
    finally:
        srv.stop()
    total = len(cases) + len(behaviours)
    print(f"{total} hostile cases ({len(cases)} requests + {len(behaviours)} slow/vanishing clients): "
          f"{counts}; closed without a response: {closed}; {cancelled:g} abandoned sequences cancelled; "
          f"corpus {t_corpus:.1f} s (over 1 s: {slow}), slow/vanishing clients {t_raw:.1f} s; failures: {len(failures)}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
