// seek tokenize: print the token ids of a text as a JSON array, like HF encode(text, add_special_tokens=False)
// (special tokens written in the text are recognised); --add-special adds BOS/EOS as the model does.
#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace seek::cli {
namespace {

struct TokenizeOptions {
  std::string path, text, file;
  bool add_special = false;
  bool pieces = false;
};

int Tokenize(const TokenizeOptions& o) {
  std::string text = o.text;
  if (!o.file.empty()) text = ReadFileOrFail(o.file, "text file");
  auto tok = Tokenizer::FromPath(o.path);
  std::vector<int32_t> ids = tok->Encode(text, o.add_special);
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(ids[i]);
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (o.pieces) {
    for (int32_t id : ids) std::fprintf(stderr, "%6d  %s\n", id, tok->TokenText(id).c_str());
  }
  return 0;
}

}  // namespace

void RegisterTokenize(CLI::App& app, Runner& run) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text as a JSON array");
  cmd->add_option("-m,--model", o->path, "a GGUF file, a Hugging Face folder, or a tokenizer.json")->required();
  auto* p = cmd->add_option("-p,--prompt", o->text, "the text");
  auto* f = cmd->add_option("-f,--file", o->file, "read the text from a file");
  p->excludes(f);
  cmd->add_flag("--add-special", o->add_special, "add BOS/EOS as the model does");
  cmd->add_flag("--show-pieces", o->pieces, "also print each token's vocabulary string to stderr");
  cmd->callback([o, &run] { run = [o] { return Tokenize(*o); }; });
}

}  // namespace seek::cli
