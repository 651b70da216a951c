#!/usr/bin/env python3
"""Makes tests/testdata/chat/: chat-template fixtures rendered by Python jinja2 exactly as transformers does.

Run by hand with the reference env (jinja2 3.1.6, transformers 4.57.1, gguf 0.17.1):
  /work/refvenv/bin/python tools/make_chat_fixture.py [--shared ../shared] [--gguf ~/.cache/seek/SmolLM2-...gguf]

Writes
  tests/testdata/chat/templates/<name>.jinja   the template texts (copied so the C++ test is self-contained)
  tests/testdata/chat/fixture.json             {"templates": {name: {bos_token, eos_token}},
                                                "conversations": [{name, messages, tools}],
                                                "cases": [{name, template, conversation, add_generation_prompt,
                                                           kwargs, expected | error}],
                                                "unit": [{name, template, context, expected | error}]}
Rendering goes through transformers.utils.chat_template_utils.render_jinja_template, i.e. the same
ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks, loopcontrols), tojson, raise_exception and context
(messages, tools, documents=None, add_generation_prompt, **kwargs) that apply_chat_template uses.
"""
import argparse
import json
import os
import sys

from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "testdata", "chat")


def load_templates(shared, gguf_path):
    """Returns {name: (template_text, {bos_token, eos_token})}."""
    out = {}
    for name in ["deepseek-v3", "qwen3", "deepseek-r1-distill-qwen"]:
        cfg = json.load(open(os.path.join(shared, "tokenizers", name, "tokenizer_config.json")))

        def tok(key):
            v = cfg.get(key)
            if isinstance(v, dict):
                v = v.get("content")
            return v

        out[name] = (cfg["chat_template"], {"bos_token": tok("bos_token"), "eos_token": tok("eos_token")})
    ct_dir = os.path.join(shared, "tokenizers", "chat-templates")
    for fn in sorted(os.listdir(ct_dir)):
        if fn.endswith(".jinja"):
            text = open(os.path.join(ct_dir, fn), encoding="utf-8").read()
            if "Qwen" in fn:
                toks = {"bos_token": None, "eos_token": "<|im_end|>"}
            else:
                toks = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}
            out[fn[: -len(".jinja")]] = (text, toks)
    from gguf import GGUFReader

    r = GGUFReader(gguf_path)
    f = r.fields["tokenizer.chat_template"]
    out["smollm2"] = (bytes(f.parts[f.data[0]]).decode("utf-8"),
                      {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"})
    return out


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web — returns «snippets».",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer",
                                                                                       "default": 3}},
                       "required": ["q"]},
    },
}


def tool_call(name, args, as_string, call_id="call_1"):
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False) if as_string else args}}


def conversations():
    """≥ 50 conversations: (label, messages, tools, extra kwargs)."""
    sys_m = {"role": "system", "content": "You are a helpful assistant."}
    u1 = {"role": "user", "content": "Hello!"}
    a1 = {"role": "assistant", "content": "Hi! How can I help you today?"}
    u2 = {"role": "user", "content": "What is 2 + 2?"}
    a_think = {"role": "assistant", "content": "<think>\nThe user asks 2+2. That is 4.\n</think>\n\n2 + 2 = 4."}
    a_think2 = {"role": "assistant", "content": "<think>short</think>The answer is 4."}
    u3 = {"role": "user", "content": "Thanks. And 3 * 3?"}
    uni = {"role": "user", "content": "Grüße, 世界! 🚀 Ünïcödé — “quotes” and \\backslash\\ and \"dq\" 'sq'\n\ttab"}
    empty_u = {"role": "user", "content": ""}
    empty_a = {"role": "assistant", "content": ""}
    base = []
    base.append(("single_user", [u1], None, {}))
    base.append(("system_user", [sys_m, u1], None, {}))
    base.append(("multi_turn", [u1, a1, u2], None, {}))
    base.append(("system_multi_turn", [sys_m, u1, a1, u2], None, {}))
    base.append(("ends_with_assistant", [sys_m, u1, a1], None, {}))
    base.append(("think_history", [u2, a_think, u3], None, {}))
    base.append(("think_last", [u2, a_think], None, {}))
    base.append(("think_short", [sys_m, u2, a_think2, u3], None, {}))
    base.append(("unicode", [uni], None, {}))
    base.append(("unicode_system", [{"role": "system", "content": "Système: réponds en français 🇫🇷"}, uni, a1],
                 None, {}))
    base.append(("empty_user", [empty_u], None, {}))
    base.append(("empty_assistant", [u1, empty_a, u2], None, {}))
    base.append(("two_systems", [sys_m, {"role": "system", "content": "Be brief."}, u1], None, {}))
    base.append(("newlines", [{"role": "user", "content": "\n\nline1\nline2\n\n"}], None, {}))
    base.append(("jinja_like_content", [{"role": "user", "content": "{{ not a tag }} {% raw %} {# c #}"}], None, {}))
    long_conv = []
    for i in range(6):
        long_conv.append({"role": "user", "content": f"question {i}"})
        long_conv.append({"role": "assistant", "content": f"answer {i}"})
    long_conv.append({"role": "user", "content": "last"})
    base.append(("long", long_conv, None, {}))
    tools = [WEATHER_TOOL, SEARCH_TOOL]
    for as_string in (False, True):
        sfx = "_argstr" if as_string else "_argdict"
        tc = tool_call("get_weather", {"city": "Paris", "unit": "celsius"}, as_string)
        tc2 = tool_call("search", {"q": "météo à Paris", "n": 2}, as_string, "call_2")
        call_none = {"role": "assistant", "content": None, "tool_calls": [tc]}
        call_text = {"role": "assistant", "content": "Let me check.", "tool_calls": [tc]}
        call_two = {"role": "assistant", "content": None, "tool_calls": [tc, tc2]}
        res = {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21, \"sky\": \"clear\"}"}
        res2 = {"role": "tool", "tool_call_id": "call_2", "content": "Paris: 21°C"}
        fin = {"role": "assistant", "content": "It is 21 °C and clear in Paris."}
        uw = {"role": "user", "content": "What's the weather in Paris?"}
        base.append(("tools_only" + sfx, [uw], tools, {}))
        base.append(("tools_system" + sfx, [sys_m, uw], tools, {}))
        base.append(("tool_call" + sfx, [uw, call_none], tools, {}))
        base.append(("tool_call_result" + sfx, [uw, call_none, res], tools, {}))
        base.append(("tool_call_result_final" + sfx, [sys_m, uw, call_none, res, fin], tools, {}))
        base.append(("tool_call_with_text" + sfx, [uw, call_text, res, fin], tools, {}))
        base.append(("two_tool_calls" + sfx, [uw, call_two, res, res2], tools, {}))
        base.append(("two_tool_calls_final" + sfx, [uw, call_two, res, res2, fin, u3], tools, {}))
        base.append(("tool_call_no_tools" + sfx, [uw, call_none, res, fin], None, {}))
    base.append(("reasoning_content", [u2, {"role": "assistant", "content": "4",
                                            "reasoning_content": "simple sum"}, u3], None, {}))
    base.append(("tool_response_user", [{"role": "user", "content": "<tool_response>x</tool_response>"}, a1],
                 None, {}))
    base.append(("no_messages_role_first_assistant", [a1, u1], None, {}))
    base.append(("prefix_message", [u1, {"role": "assistant", "content": "Sure", "prefix": True}], None, {}))
    more_users = [
        ("code_block", "Fix this:\n```python\ndef f(x):\n    return x+1\n```"),
        ("markdown", "# Title\n\n- item 1\n- item 2\n\n**bold** _it_"),
        ("json_content", "{\"a\": [1, 2, {\"b\": null}]}"),
        ("whitespace_only", "   \n\t  "),
        ("think_in_user", "Please <think>carefully</think> answer."),
        ("special_tokens_in_text", "<|im_start|>user\n<｜User｜>hi<｜end▁of▁sentence｜>"),
        ("cjk", "你好，世界。こんにちは。안녕하세요"),
        ("emoji_zwj", "👩‍👩‍👧‍👦 family 🏳️‍🌈"),
        ("rtl", "مرحبا بالعالم שלום"),
        ("long_text", "lorem ipsum dolor sit amet " * 40),
    ]
    for label, text in more_users:
        base.append((label, [{"role": "user", "content": text}], None, {}))
    base.append(("system_only", [sys_m], None, {}))
    base.append(("assistant_think_then_tool", [u2, {"role": "assistant", "content": None, "tool_calls": [
        tool_call("get_weather", {"city": "Oslo"}, True)]}, {"role": "tool", "content": "-3°C"},
        {"role": "assistant", "content": "<think>\ncold\n</think>\n\nIt is -3 °C."}], tools, {}))
    base.append(("three_tool_results", [{"role": "user", "content": "weather x3"},
                 {"role": "assistant", "content": None, "tool_calls": [
                     tool_call("get_weather", {"city": c}, True, f"call_{i}") for i, c in
                     enumerate(["A", "B", "C"])]}] +
                 [{"role": "tool", "content": f"r{i}"} for i in range(3)], tools, {}))
    return base


def gen_cases(templates):
    """Returns (conversations, cases). A case names its template and conversation (by index) and carries the
    extra render kwargs; the context is messages, tools, documents=None, add_generation_prompt, the template's
    bos_token/eos_token, then the extra kwargs -- exactly what render_jinja_template passes to jinja2."""
    convs = []
    cases = []
    for label, msgs, tools, extra in conversations():
        conv_index = len(convs)
        convs.append({"name": label, "messages": msgs, "tools": tools})
        for tname, (text, toks) in templates.items():
            variants = [{"add_generation_prompt": True}, {"add_generation_prompt": False}]
            if tname in ("qwen3", "deepseek-ai-DeepSeek-V3.1"):
                variants += [{"add_generation_prompt": True, "enable_thinking": False},
                             {"add_generation_prompt": True, "enable_thinking": True}]
            for v in variants:
                agp = v["add_generation_prompt"]
                kwargs = dict(extra)
                kwargs.update({k: val for k, val in v.items() if k != "add_generation_prompt"})
                case = {"name": f"{tname}/{label}/" + ",".join(f"{k}={val}" for k, val in v.items()),
                        "template": tname, "conversation": conv_index, "add_generation_prompt": agp,
                        "kwargs": kwargs}
                try:
                    out, _ = render_jinja_template(conversations=[msgs], tools=tools, chat_template=text,
                                                   add_generation_prompt=agp, **toks, **kwargs)
                    case["expected"] = out[0]
                except Exception as e:  # noqa: BLE001 - recorded as an expected error
                    case["error"] = f"{type(e).__name__}: {e}"
                cases.append(case)
    return convs, cases


# Unit cases: (name, template, context). Expected values come from jinja2, not from the C++ implementation.
UNIT = [
    ("text", "hello world", {}),
    ("trailing_newline_dropped", "a\n", {}),
    ("two_trailing_newlines", "a\n\n", {}),
    ("crlf", "a\r\nb\rc", {}),
    ("var", "{{ x }}", {"x": "v"}),
    ("print_none", "{{ x }}", {"x": None}),
    ("print_bools", "{{ true }} {{ false }} {{ True }} {{ x }}", {"x": True}),
    ("print_ints", "{{ 1 }} {{ -3 }} {{ 10 // 3 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }}", {}),
    ("print_floats", "{{ 1.0 }} {{ 0.1 }} {{ 1e-05 }} {{ 1.5e20 }} {{ 1e16 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 0.1 + 0.2 }}",
     {}),
    ("print_float_ctx", "{{ x }} {{ y }} {{ z }}", {"x": 3.14159, "y": 1e100, "z": -0.0}),
    ("print_list", "{{ [1, 'a', none, true, 1.5] }}", {}),
    ("print_dict", "{{ {'a': 1, 'b': [2, 'c']} }}", {}),
    ("print_ctx_list_dict", "{{ m }}", {"m": [{"role": "user", "content": "it's \"q\""}]}),
    ("print_str_repr_quotes", "{{ ['a\\'b', \"c\\\"d\", 'e\\nf'] }}", {}),
    ("print_tuple", "{{ (1, 2) }} {{ (1,) }}", {}),
    ("comment", "a{# comment #}b", {}),
    ("ws_minus", "a  {{- 'x' -}}  b", {}),
    ("ws_minus_block", "a \n {%- if true -%} \n x \n {%- endif -%} \n b", {}),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nend", {}),
    ("lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\ny", {}),
    ("lstrip_not_var", "  {{ 'v' }}\n  {% if true %}z{% endif %}", {}),
    ("lstrip_plus", "  {%+ if true %}x{% endif +%}\n", {}),
    ("lstrip_comment", "a\n   {# c #}\nb", {}),
    ("lstrip_mid_line", "a  {% if true %}x{% endif %}", {}),
    ("raw", "{% raw %}{{ x }}{% if %}{% endraw %}!", {}),
    ("raw_ws", "  {% raw %}\n{{ y }}\n  {% endraw %}\nz", {}),
    ("if_elif_else", "{% for v in [1,2,3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %};"
                     "{% endfor %}", {}),
    ("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                      "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("for_prev_next", "{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", {}),
    ("for_cycle", "{% for x in range(4) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("for_undefined", "{% for x in nothing %}x{% else %}none{% endfor %}", {}),
    ("for_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("for_dict", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("for_filter", "{% for x in range(10) if x is odd %}{{ x }}{% endfor %}", {}),
    ("for_filter_loop_index", "{% for x in range(10) if x > 6 %}{{ loop.index }}/{{ loop.length }} {% endfor %}", {}),
    ("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}"
                           "{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("for_scope", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("for_nested_loop", "{% for a in [1,2] %}{% for b in [3,4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}"
                        "{{ loop.index }}|{% endfor %}", {}),
    ("range", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }}", {}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    ("set_block", "{% set x %}inner {{ 1 + 1 }}{% endset %}[{{ x }}]", {}),
    ("namespace", "{% set ns = namespace(a=1, b='x') %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}"
                  "{{ ns.a }}{{ ns.b }}", {}),
    ("macro", "{% macro f(a, b='B', c=3) %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ f(1) }} {{ f(1, 2) }} "
              "{{ f(1, c=9) }}", {}),
    ("macro_ws", "{%- macro greet(name) -%}\n  Hello {{ name }}!\n{%- endmacro -%}\n{{ greet('x') }}", {}),
    ("macro_call_block", "{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}", {}),
    ("macro_globals", "{% set g = 5 %}{% macro f() %}{{ g }}{% endmacro %}{{ f() }}", {"g": 1}),
    ("macro_recursion", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(4) }}", {}),
    ("ops_arith", "{{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 1.5 + 1 }} "
                  "{{ 7 // 2.0 }} {{ 7.5 % 2 }}", {}),
    ("ops_concat", "{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' + 'cd' }} {{ [1] + [2] }} {{ 'ab' * 3 }} {{ 2 * 'x' }}",
     {}),
    ("ops_compare", "{{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ [1,2] == [1,2] }} "
                    "{{ 1 < 2 < 3 }} {{ none == none }}", {}),
    ("ops_logic", "{{ true and false }} {{ 0 or 'x' }} {{ '' or [] }} {{ not 0 }} {{ 1 and 2 }} {{ none or 0 }}", {}),
    ("ops_in", "{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} "
               "{{ not 'z' in 'abc' }}", {}),
    ("ops_ternary", "{{ 'y' if x else 'n' }} {{ 'y' if not x else 'n' }} [{{ 'only' if false }}]", {"x": 1}),
    ("slicing", "{{ s[1:3] }} {{ s[::-1] }} {{ s[-2:] }} {{ s[:-1] }} {{ l[1:] }} {{ l[::2] }} {{ l[-1] }} "
                "{{ s[0] }} {{ s[-1] }} {{ l[5:9] }} {{ l[::-2] }}", {"s": "héllo", "l": [1, 2, 3, 4]}),
    ("attr_item", "{{ d.a }} {{ d['a'] }} {{ d.get('b') }} {{ d.get('zz', 'def') }} {{ d.get('zz') }} {{ l[0].k }}",
     {"d": {"a": 1, "b": 2}, "l": [{"k": "v"}]}),
    ("attr_items_key", "{{ d['items'] }} {{ d.keys() | list }} {{ d.values() | list }}",
     {"d": {"items": "x", "a": 1}}),
    ("undefined_print", "[{{ nope }}][{{ d.nope }}][{{ d['nope'] }}]", {"d": {}}),
    ("undefined_tests", "{{ nope is defined }} {{ nope is undefined }} {{ d.x is defined }} {{ d.a is defined }} "
                        "{{ d.a.b is defined }}", {"d": {"a": 1}}),
    ("undefined_attr_error", "{{ nope.attr }}", {}),
    ("undefined_item_error", "{{ d.a.b.c }}", {"d": {"a": 1}}),
    ("undefined_concat_error", "{{ nope + 'x' }}", {}),
    ("undefined_tilde", "[{{ nope ~ 'x' }}]", {}),
    ("undefined_bool", "{% if nope %}y{% else %}n{% endif %} {{ not nope }}", {}),
    ("none_attr_error", "{{ x.y }}", {"x": None}),
    ("none_item_undefined", "{{ x['y'] is defined }}", {"x": {}}),
    ("strings_methods", "{{ '  ab  '.strip() }}|{{ 'xxabxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|"
                        "{{ 'a,b,,c'.split(',') }}|{{ 'a b  c'.split() }}|{{ 'a,b,c'.rsplit(',', 1) }}|"
                        "{{ 'a,b,c'.split(',', 1) }}", {}),
    ("strings_methods2", "{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} {{ 'abc'.replace('b', 'X') }} "
                         "{{ 'aXbXc'.replace('X', '', 1) }} {{ 'Hello World'.lower() }} {{ 'hi'.upper() }} "
                         "{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'abcb'.find('b') }} "
                         "{{ 'abcb'.count('b') }} {{ '-'.join(['a', 'b']) }} {{ 'abc'.find('z') }}", {}),
    ("strings_startswith_tuple", "{{ 'abc'.startswith(('x', 'a')) }}", {}),
    ("str_format", "{{ '{} and {}'.format(1, 'b') }} {{ '%s-%d' % ('a', 3) }}", {}),
    ("dict_items", "{% for k, v in d.items() %}{{ k }}:{{ v }} {% endfor %}{{ d.items() | list }}",
     {"d": {"z": [1], "a": None}}),
    ("list_append_error", "{% set l = [1] %}{{ l.append(2) }}{{ l }}", {}),
    ("dict_update_error", "{% set d = {} %}{{ d.update({'a': 1}) }}", {}),
    ("filter_trim", "[{{ '  x \n' | trim }}] [{{ 'xxaxx' | trim('x') }}]", {}),
    ("filter_tojson", "{{ d | tojson }}", {"d": {"b": [1, 2.5, None, True, "é\"\n</"], "a": {}}}),
    ("filter_tojson_indent", "{{ d | tojson(indent=2) }}", {"d": {"b": [1, {"c": []}], "a": "x"}}),
    ("filter_tojson_str", "{{ 'x' | tojson }} {{ 1.0 | tojson }} {{ none | tojson }} {{ 1e-7 | tojson }}", {}),
    ("filter_tojson_sep", "{{ d | tojson(separators=(',', ':')) }}", {"d": {"a": [1, 2]}}),
    ("filter_length", "{{ 'héllo' | length }} {{ [1,2] | count }} {{ {'a': 1} | length }}", {}),
    ("filter_join", "{{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }} {{ l | join(',', attribute='n') }}",
     {"l": [{"n": "x"}, {"n": "y"}]}),
    ("filter_first_last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }}", {}),
    ("filter_list", "{{ 'ab' | list }} {{ {'a': 1} | list }}", {}),
    ("filter_case", "{{ 'aBc dEf' | lower }} {{ 'abc' | upper }} {{ 'aBc dEf' | title }} {{ 'aBc dEf' | capitalize }}",
     {}),
    ("filter_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}", {}),
    ("filter_default", "{{ nope | default('d') }} {{ none | default('d') }} {{ '' | default('d', true) }} "
                       "{{ 'x' | d('d') }} {{ nope | d }}", {}),
    ("filter_string_int_float", "{{ 12 | string }} {{ '42' | int }} {{ '3.5' | float }} {{ 3.9 | int }} "
                                "{{ 'x' | int }} {{ 2 | float }} {{ -3 | abs }} {{ 2.567 | round(2) }} "
                                "{{ 2.5 | round }} {{ 3.7 | round(0, 'floor') }}", {}),
    ("filter_map", "{{ l | map(attribute='n') | list }} {{ ['a', 'b'] | map('upper') | join }}",
     {"l": [{"n": 1}, {"n": 2}]}),
    ("filter_select", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} "
                      "{{ [0, 1, '', 'a'] | select | list }} {{ [1, 5, 9] | select('gt', 4) | list }}", {}),
    ("filter_selectattr", "{{ l | selectattr('role', 'equalto', 'user') | map(attribute='c') | list }} "
                          "{{ l | rejectattr('role', 'eq', 'user') | map(attribute='c') | list }} "
                          "{{ l | selectattr('x') | list | length }}",
     {"l": [{"role": "user", "c": 1}, {"role": "bot", "c": 2, "x": True}, {"role": "user", "c": 3}]}),
    ("filter_items_dictsort", "{{ d | items | list }} {{ d | dictsort }}", {"d": {"b": 1, "a": 2, "C": 3}}),
    ("filter_sort", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }} "
                    "{{ l | sort(attribute='n') | map(attribute='n') | list }}", {"l": [{"n": 2}, {"n": 1}]}),
    ("filter_unique_reverse", "{{ [1, 2, 1, 3] | unique | list }} {{ [1, 2, 3] | reverse | list }} "
                              "{{ 'abc' | reverse }}", {}),
    ("filter_indent", "{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\nb' | indent('> ') }}", {}),
    ("filter_misc", "{{ 'a b  c' | wordcount }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ [1, 2, 3] | sum }} "
                    "{{ 'hello world foo' | truncate(9) }} [{{ 'ab' | center(6) }}] {{ '<b>x</b>  y' | striptags }}",
     {}),
    ("filter_batch", "{{ [1, 2, 3, 4, 5] | batch(2) | list }}", {}),
    ("filter_safe_escape", "{{ '<a>' | safe }} {{ '<a>&\"' | escape }} {{ '<a>' | e }}", {}),
    ("tests", "{{ 1 is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ 'a' is string }} {{ {} is mapping }} "
              "{{ [] is sequence }} {{ 'a' is iterable }} {{ true is boolean }} {{ true is true }} "
              "{{ 0 is false }} {{ none is none }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is eq 1 }} "
              "{{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 3 is gt 2 }} {{ 2 is in [1, 2] }} {{ none is sameas none }} "
              "{{ range is callable }} {{ 1 is not string }} {{ true is number }} {{ 'a' is sequence }}", {}),
    ("raise_exception", "{{ raise_exception('bad role: ' ~ r) }}", {"r": "x"}),
    ("string_escapes", "{{ 'a\\tb\\\\c\\u00e9\\x41' }}", {}),
    ("literal_numbers", "{{ 1_000 }} {{ 0x1F }} {{ 1.5e3 }} {{ 2e2 }} {{ 0b101 }}", {}),
    ("unknown_filter", "{{ 1 | nosuchfilter }}", {}),
    ("syntax_error", "line one\n{% if x %}unterminated", {}),
    ("unknown_tag", "a\n\n{% frobnicate %}", {}),
    ("dict_literal_order", "{{ {'z': 1, 'a': 2} | tojson }} {{ {'z': 1, 'a': 2} }}", {}),
    ("nested_subscript", "{{ m[0]['content'][0:2] }} {{ m[-1].role }}",
     {"m": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "yo"}]}),
    ("bool_of_values", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0] %}{{ 'T' if v else 'F' }}{% endfor %}",
     {}),
    ("is_defined_global_set", "{% if not x is defined %}{% set x = 'set' %}{% endif %}{{ x }}", {}),
    ("string_concat_non_str_error", "{{ 'a' + 1 }}", {}),
    ("int_division_by_zero", "{{ 1 / 0 }}", {}),
    ("loop_in_macro", "{% macro m(l) %}{% for x in l %}{{ x }}{{ ',' if not loop.last }}{% endfor %}{% endmacro %}"
                      "{{ m([1, 2, 3]) }}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}", {}),
    ("whitespace_mixed_real", "{%- for m in messages %}\n    {{- m.role }}: {{ m.content }}\n{%- endfor %}\n",
     {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}),
    ("strftime_type", "{{ strftime_now('%Y') | length }}", {}),
    ("list_index_out_of_range", "[{{ l[5] }}]", {"l": [1]}),
    ("loop_length_unpack_items", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {}),
    ("not_precedence", "{{ not 1 == 2 }} {{ not true and false }} {{ -1 + 2 }} {{ 'x' ~ 1 + 2 }}", {}),
    ("concat_precedence", "{{ 'x' ~ (1 + 2) }} {{ 1 + 2 ~ 'x' }}", {}),
    ("in_precedence", "{{ 'a' ~ 'b' in 'xab' }}", {}),
    ("multiline_expr", "{{\n  'a'\n  ~ 'b'\n}}", {}),
    ("json_float_ctx", "{{ x | tojson }} {{ x }}", {"x": [1.0, 2.5, 100.0, 1e-7, 1234567890123]}),
    ("extra_selectattr_len", "{{ m | selectattr('role', 'equalto', 'system') | list | length }}",
     {"m": [{"role": "system"}, {"role": "user"}]}),
    ("extra_str_index", "{{ 'abc'[1] }} {{ 'héllo'[1] }} {{ none is not none }} {{ [1, 2][5] is defined }}", {}),
    ("extra_tojson_ctrl", "{{ s | tojson }}", {"s": "a\u0001b\u007f\u2028c\td"}),
    ("extra_float_str", "{{ 3.0 | string }} {{ 1e300 * 1e10 }} {{ -1e300 * 1e10 }} {{ 2 ** 62 }} {{ 10 | string | length }}",
     {}),
    ("extra_for_if_index", "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}",
     {"messages": [{"role": "system"}, {"role": "user"}, {"role": "assistant"}]}),
    ("extra_none_trim", "[{{ x | trim }}] [{{ x | string }}] [{{ x | default('d') }}]", {"x": None}),
    ("extra_in_none_error", "{{ 'a' in x }}", {"x": None}),
    ("extra_literal_escape", "{{ 'It\\'s' }} {{ \"say \\\"hi\\\"\" }}", {}),
    ("extra_format_filter", "{{ '%s-%s' | format(1, 'b') }}", {}),
    ("extra_tojson_indent4", "{{ d | tojson(indent=4) }}", {"d": {"a": {"b": 1}, "c": [[], {}]}}),
    ("extra_tojson_null_tools", "{{ tools | tojson }}", {"tools": None}),
    ("extra_eq_mixed", "{{ 1 == true }} {{ '1' == 1 }} {{ 0 == false }} {{ 1.0 == 1 }} {{ none == false }}", {}),
    ("extra_raw_minus", "a  {%- raw -%}  x  {%- endraw -%}  b", {}),
    ("extra_comment_strip", "a\n  {#- x -#}  \n  y", {}),
    ("extra_cond_messages", "{{ messages[0]['content'] if messages else '' }}|{{ m2[0] if m2 else 'empty' }}",
     {"messages": [{"content": "c"}], "m2": []}),
    ("extra_nested_ns_loop", "{% set ns = namespace(found=false) %}{% for m in msgs %}{% if m == 2 %}"
                             "{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", {"msgs": [1, 2, 3]}),
    ("extra_macro_kwargs_default_expr", "{% macro f(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ f('x') }}", {}),
    ("extra_loop_after_break_else", "{% for x in [1] %}{% break %}{% else %}E{% endfor %}done", {}),
    ("extra_items_sorted_keys", "{% for k, v in d | dictsort %}{{ k }}={{ v }},{% endfor %}",
     {"d": {"b": 2, "a": 1}}),
    ("extra_string_mul_concat", "{{ ('ab' ~ 'c') * 2 }} {{ '-' * 0 }}|", {}),
    ("extra_unicode_upper", "{{ 'straße ÉCOLE' | upper }} {{ 'ÀÉÎ' | lower }} {{ 'éa' | capitalize }}", {}),
    ("extra_split_lstrip_chain", "{{ s.split('</think>')[-1].lstrip('\\n') }}|{{ s.split('</think>')[0].rstrip('\\n') }}",
     {"s": "<think>\nr\n</think>\n\nans"}),
    ("big_int", "{{ x }} {{ x + 1 }}", {"x": 9007199254740993}),
]


def gen_unit():
    env_t = _compile_jinja_template  # noqa: F841 - same environment as the cases
    out = []
    for name, tmpl, ctx in UNIT:
        case = {"name": name, "template": tmpl, "context": ctx}
        try:
            case["expected"] = _compile_jinja_template(tmpl).render(**ctx)
        except Exception as e:  # noqa: BLE001
            case["error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/seek/SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = ap.parse_args()
    templates = load_templates(args.shared, args.gguf)
    # Identical template texts (the R1 distills share one) are rendered once.
    unique, seen = {}, {}
    for name, (text, toks) in templates.items():
        if text in seen:
            print(f"{name}: same text as {seen[text]}, skipped", file=sys.stderr)
            continue
        seen[text] = name
        unique[name] = (text, toks)
    templates = unique
    os.makedirs(os.path.join(OUT, "templates"), exist_ok=True)
    for name, (text, _) in templates.items():
        with open(os.path.join(OUT, "templates", name + ".jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    convs, cases = gen_cases(templates)
    unit = gen_unit()
    fixture = {"templates": {name: toks for name, (_, toks) in templates.items()}, "conversations": convs,
               "cases": cases, "unit": unit}
    with open(os.path.join(OUT, "fixture.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    n_err = sum(1 for c in cases if "error" in c)
    print(f"{len(cases)} cases ({n_err} expected errors), {len(unit)} unit cases, "
          f"{len(convs)} conversations, {len(templates)} templates", file=sys.stderr)


if __name__ == "__main__":
    main()
