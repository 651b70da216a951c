// Filters, tests, globals and Python methods available to chat templates, with the semantics of jinja2's
// ImmutableSandboxedEnvironment as transformers configures it (custom `tojson`, `raise_exception`,
// `strftime_now`). Methods that would mutate a list/dict (append, update, pop, ...) raise SecurityError like the
// immutable sandbox.
#pragma once
#include <string>

#include "tokenizer/jinja/value.h"

namespace seek::jinja {

class Interpreter;

bool IsKnownFilter(const std::string& name);
bool IsKnownTest(const std::string& name);

// `value | name(args)`.
Value ApplyFilter(Interpreter& in, const std::string& name, const Value& value, Args& args);
// `value is name(args)`.
bool ApplyTest(Interpreter& in, const std::string& name, const Value& value, Args& args);

// `obj.name` as the sandbox resolves it: Python attribute (bound method) first, then item; Undefined with a hint
// when missing. `obj` must not be Undefined (the caller raises).
Value GetAttr(const Value& obj, const std::string& name);
// `obj[key]`: item first, then attribute. Out-of-range indices and missing keys give Undefined.
Value GetItem(const Value& obj, const Value& key);
// `key in container`.
bool Contains(const Value& container, const Value& key);

// The global functions: range, namespace, dict, raise_exception, strftime_now, cycler-free subset.
Dict MakeGlobals();

// Python's `str % args` for the conversions templates use (%s %r %d %i %f %%).
std::string PercentFormat(const std::string& fmt, const Value& args);

}  // namespace seek::jinja
