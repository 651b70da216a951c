// Chat templates rendered by seek vs Python jinja2 as transformers applies it. The fixture
// (tests/testdata/chat/fixture.json) comes from tools/make_chat_fixture.py: "cases" render every real template
// in tests/testdata/chat/templates/ against many conversations, "unit" cover single language features.
// Every output must be byte-identical; an expected Python exception must be a seek::Error here.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/error.h"
#include "test_util.h"

namespace seek {
namespace {

using nlohmann::ordered_json;

const ordered_json& Fixture() {
  static const ordered_json fixture = [] {
    std::ifstream in(test::TestdataDir() + "/chat/fixture.json");
    return in ? ordered_json::parse(in) : ordered_json();
  }();
  return fixture;
}

std::string Escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out.push_back(c);
  }
  return out;
}

// Empty when equal; otherwise the first differing byte offset with context from both sides.
std::string Diff(const std::string& want, const std::string& got) {
  if (want == got) return "";
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  size_t from = k > 40 ? k - 40 : 0;
  return "first difference at byte " + std::to_string(k) + " (want " + std::to_string(want.size()) + " bytes, got " +
         std::to_string(got.size()) + ")\n  want: ..." + Escaped(want.substr(from, 100)) + "\n  got:  ..." +
         Escaped(got.substr(from, 100));
}

// The render context of a "cases" entry, built the way transformers' render_jinja_template builds it.
ordered_json CaseContext(const ordered_json& c) {
  const ordered_json& conv = Fixture()["conversations"][c["conversation"].get<size_t>()];
  ordered_json ctx = {{"messages", conv["messages"]},
                      {"tools", conv["tools"]},
                      {"documents", nullptr},
                      {"add_generation_prompt", c["add_generation_prompt"]}};
  for (const auto& [k, v] : Fixture()["templates"][c["template"].get<std::string>()].items()) ctx[k] = v;
  for (const auto& [k, v] : c["kwargs"].items()) ctx[k] = v;
  return ctx;
}

// Checks one fixture entry; returns an error description or "".
std::string Check(const std::string& source, const ordered_json& context, const ordered_json& c) {
  std::string got;
  try {
    ChatTemplate tmpl(source);
    got = tmpl.Render(context);
  } catch (const Error& e) {
    if (c.contains("error")) {
      // raise_exception's message must come through.
      std::string want = c["error"].get<std::string>();
      const std::string kPrefix = "TemplateError: ";
      if (want.rfind(kPrefix, 0) == 0 && std::string(e.what()).find(want.substr(kPrefix.size())) == std::string::npos)
        return "error message lacks '" + want.substr(kPrefix.size()) + "': " + e.what();
      if (std::string(e.what()).rfind("chat template line ", 0) != 0)
        return std::string("error does not name the line: ") + e.what();
      return "";
    }
    return std::string("unexpected error: ") + e.what();
  }
  if (c.contains("error")) return "expected error '" + c["error"].get<std::string>() + "', got output '" + got + "'";
  return Diff(c["expected"].get<std::string>(), got);
}

TEST(ChatTemplateTest, FixtureIsPresent) {
  ASSERT_TRUE(Fixture().contains("cases")) << "missing " << test::TestdataDir() << "/chat/fixture.json";
  EXPECT_GE(Fixture()["cases"].size(), 300u);
  EXPECT_GE(Fixture()["conversations"].size(), 50u);
  EXPECT_GE(Fixture()["unit"].size(), 100u);
}

TEST(ChatTemplateTest, UnitCasesMatchJinja2) {
  int failures = 0;
  for (const auto& c : Fixture()["unit"]) {
    std::string err = Check(c["template"].get<std::string>(), c["context"], c);
    if (!err.empty()) {
      ++failures;
      ADD_FAILURE() << c["name"].get<std::string>() << ": " << err << "\n  template: "
                    << Escaped(c["template"].get<std::string>());
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(ChatTemplateTest, RealTemplatesMatchTransformers) {
  std::map<std::string, std::string> sources;
  int failures = 0, checked = 0;
  for (const auto& c : Fixture()["cases"]) {
    std::string name = c["template"].get<std::string>();
    if (!sources.count(name)) {
      std::string path = test::TestdataDir() + "/chat/templates/" + name + ".jinja";
      ASSERT_TRUE(test::FileExists(path)) << path;
      sources[name] = test::ReadFileToString(path);
    }
    std::string err = Check(sources[name], CaseContext(c), c);
    ++checked;
    if (!err.empty() && ++failures <= 20) ADD_FAILURE() << c["name"].get<std::string>() << ": " << err;
  }
  EXPECT_EQ(failures, 0) << "of " << checked;
}

TEST(ChatTemplateTest, SyntaxErrorNamesLine) {
  try {
    ChatTemplate t("line one\n\n{% if x %}\n{{ 1 + }}\n{% endif %}");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chat template line 4:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ChatTemplate("{{ x | no_such_filter }}"), Error);
  EXPECT_THROW(ChatTemplate("{% if x is no_such_test %}{% endif %}"), Error);
  EXPECT_THROW(ChatTemplate("{% include 'x' %}"), Error);
  EXPECT_THROW(ChatTemplate("{% for x in y %}"), Error);
}

TEST(ChatTemplateTest, RuntimeErrorNamesLine) {
  ChatTemplate t("a\nb\n{{ raise_exception('boom') }}");
  try {
    t.Render(ordered_json::object());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "chat template line 3: boom");
  }
}

TEST(ChatTemplateTest, LimitsStopHostileTemplates) {
  auto ctx = ordered_json::object();
  // Unbounded macro recursion.
  EXPECT_THROW(ChatTemplate("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").Render(ctx), Error);
  // Huge string repetition and output.
  EXPECT_THROW(ChatTemplate("{{ 'x' * 1000000000 }}").Render(ctx), Error);
  EXPECT_THROW(ChatTemplate("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}")
                   .Render(ctx),
               Error);
  EXPECT_THROW(ChatTemplate("{% set s = namespace(v='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}"
                            "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v | length }}")
                   .Render(ctx),
               Error);
  // Deep nesting does not overflow the stack.
  EXPECT_THROW(ChatTemplate("{{ " + std::string(100000, '(')), Error);
  EXPECT_THROW(ChatTemplate("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"), Error);
  EXPECT_THROW(ChatTemplate("{{ " + std::string(5000, '-') + "1 }}"), Error);
  std::string filters = "{{ x";
  for (int k = 0; k < 5000; ++k) filters += " | default(1)";
  EXPECT_NO_THROW(ChatTemplate(filters + " }}").Render(ctx));
  std::string deep;
  for (int k = 0; k < 1000; ++k) deep += "{% if true %}";
  EXPECT_THROW(ChatTemplate{deep}, Error);
}

TEST(ChatTemplateTest, RendersRepeatedlyAndMoves) {
  ChatTemplate t("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}");
  ordered_json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  EXPECT_EQ(t.Render(ctx), "user:hi;");
  ChatTemplate moved(std::move(t));
  EXPECT_EQ(moved.Render(ctx), "user:hi;");
}

}  // namespace
}  // namespace seek
