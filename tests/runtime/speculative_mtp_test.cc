// MtpDrafter (DeepSeek-V3's MTP / NextN layer as the drafter) on the V3-style tiny model ds3 of
// tools/make_tiny_deepseek.py: each draft is the argmax of HF's MTP logits for that position (mtp_logits.f32,
// made by transformers' DeepseekV3DecoderLayer), fed incrementally as Generate feeds it; greedy output with
// MTP speculation is identical to plain decoding, also when a second request reuses the cached prefix.
#include "runtime/speculative_mtp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/generate.h"
#include "test_util.h"

namespace seek {
namespace {

std::string Ds3Dir() { return test::TestdataDir() + "/models/ds3"; }

std::unique_ptr<Model> LoadDs3(const std::string& file) {
  LoadOptions lo;  // the fixture has no tokenizer; stories260K's has the same 512 ids (Generate decodes text)
  lo.tokenizer_path = test::SharedDir() + "/models/stories260K/tok512.bin";
  return Model::Load(Ds3Dir() + "/" + file, lo);
}

std::vector<int32_t> Ids(const nlohmann::json& j, const char* key) { return j.at(key).get<std::vector<int32_t>>(); }

TEST(MtpDrafter, DraftIsTheArgmaxOfHfMtpLogits) {
  SEEK_REQUIRE_SHARED();
  const auto ref = nlohmann::json::parse(test::ReadFileToString(Ds3Dir() + "/reference.json"));
  const std::vector<int32_t> ids = Ids(ref, "ids");
  const int32_t n_vocab = ref.at("n_vocab").get<int32_t>();
  const size_t n_rows = ids.size() - 1;  // row i: position i, predicting ids[i + 2]
  const std::string raw = test::ReadFileToString(Ds3Dir() + "/" + ref.at("mtp_logits_file").get<std::string>());
  ASSERT_EQ(raw.size(), n_rows * size_t(n_vocab) * sizeof(float));
  const float* hf = reinterpret_cast<const float*>(raw.data());
  const auto [lo, hi] = std::minmax_element(hf, hf + n_rows * size_t(n_vocab));
  const float min_margin = 1e-3f * (*hi - *lo);  // well above the fp32 difference (NextN test: 1e-4 of range)

  const auto model = LoadDs3("ds3-f32.gguf");
  ThreadPool pool(2);
  Context ctx(*model, 128, &pool);
  ctx.set_keep_hidden_states(true);
  MtpDrafter d(*model, 128, &pool);
  // The prompt: 8 positions in one chunk, then one committed token at a time, as Generate does.
  constexpr int32_t kPrompt = 8;
  ctx.Eval(std::span<const int32_t>(ids).first(kPrompt));
  d.Reset(std::span<const int32_t>(ids).first(kPrompt + 1));
  d.AcceptHidden(0, ctx.hidden_states());
  int compared = 0, skipped = 0;
  std::vector<int32_t> draft;
  for (int32_t j = kPrompt - 1;; ++j) {
    // Drafting for the token after ids[j + 1]: the MTP row of position j.
    d.Propose(4, draft);
    ASSERT_EQ(draft.size(), 1u) << "position " << j;
    const float* row = hf + size_t(j) * size_t(n_vocab);
    std::vector<float> sorted(row, row + n_vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] >= min_margin) {
      EXPECT_EQ(draft[0], int32_t(std::max_element(row, row + n_vocab) - row)) << "position " << j;
      ++compared;
    } else {
      ++skipped;
    }
    if (j + 2 >= int32_t(ids.size())) break;
    ctx.Eval(std::span<const int32_t>(&ids[size_t(j) + 1], 1));
    d.Accept(ids[size_t(j) + 2]);
    d.AcceptHidden(j + 1, ctx.hidden_states());
  }
  std::cout << "[mtp] compared " << compared << " drafts with HF's argmax (" << skipped << " near ties skipped), "
            << d.n_evals() << " MTP evals\n";
  EXPECT_GE(compared, 40);
  EXPECT_EQ(d.mtp().n_past(), int32_t(ids.size()) - 1);
}

TEST(MtpDrafter, RefusesAModelWithoutMtp) {
  const auto model = Model::Load(test::TestdataDir() + "/models/ds2_lite/ds2_lite-f32.gguf");
  EXPECT_THROW(MtpDrafter(*model, 64, nullptr), Error);
  SpeculativeOptions o;
  o.kind = DraftKind::kMtp;
  EXPECT_THROW(MakeDrafter(o), Error);  // needs the model
  EXPECT_EQ(ParseDraftKind("mtp"), DraftKind::kMtp);
}

struct GenOut {
  GenerateResult r;
  std::vector<int32_t> history;
};

GenOut Gen(Context& ctx, const Model& model, std::vector<int32_t>& history, std::span<const int32_t> prompt,
        Drafter* drafter, float temperature = 0.0f) {
  SamplingParams sp;
  sp.temperature = temperature;
  sp.seed = 7;
  Sampler sampler(sp, model.config().n_vocab);
  GenerateOptions go;
  go.n_predict = 40;
  go.ignore_eos = true;
  go.prompt_chunk = 16;  // several prompt chunks: their hidden rows all reach the drafter
  go.speculative.drafter = drafter;
  go.speculative.n_draft = 4;
  go.speculative.adaptive = false;
  GenOut run;
  run.r = Generate(ctx, model.tokenizer(), sampler, history, prompt, go);
  run.history = history;
  return run;
}

TEST(MtpDrafter, GreedyOutputIdenticalToPlainDecoding) {
  SEEK_REQUIRE_SHARED();
  const auto ref = nlohmann::json::parse(test::ReadFileToString(Ds3Dir() + "/reference.json"));
  for (const char* file : {"ds3-f32.gguf", "ds3-q8_0.gguf", "ds3-kb-bf16.gguf"}) {
    const auto model = LoadDs3(file);
    std::mt19937 rng(3);
    std::vector<std::vector<int32_t>> prompts = {Ids(ref, "greedy_prompt"), Ids(ref, "ids")};
    std::vector<int32_t> random(40);
    for (auto& t : random) t = int32_t(rng() % 512u);
    prompts.push_back(random);
    SpeculativeStats total;
    for (const auto& prompt : prompts) {
      Context plain_ctx(*model, 160, nullptr), spec_ctx(*model, 160, nullptr);
      std::vector<int32_t> plain_hist, spec_hist;
      MtpDrafter d(*model, 160, nullptr);
      const GenOut plain = Gen(plain_ctx, *model, plain_hist, prompt, nullptr);
      const GenOut spec = Gen(spec_ctx, *model, spec_hist, prompt, &d);
      EXPECT_EQ(spec.r.tokens, plain.r.tokens) << file;
      EXPECT_EQ(spec.history, plain.history) << file;
      EXPECT_GT(spec.r.speculative.n_drafted, 0) << file;
      total.n_drafted += spec.r.speculative.n_drafted;
      total.n_accepted += spec.r.speculative.n_accepted;
      // A follow-up request that extends the first one's history: the KV cache and the MTP cache are reused.
      std::vector<int32_t> turn2 = plain.history;
      turn2.push_back(plain.r.tokens.back());
      turn2.insert(turn2.end(), prompt.begin(), prompt.begin() + 5);
      const GenOut plain2 = Gen(plain_ctx, *model, plain_hist, turn2, nullptr);
      const GenOut spec2 = Gen(spec_ctx, *model, spec_hist, turn2, &d);
      EXPECT_EQ(spec2.r.tokens, plain2.r.tokens) << file << " (second request)";
      EXPECT_EQ(spec2.r.n_prompt_eval, plain2.r.n_prompt_eval) << file;
    }
    std::cout << "[mtp] " << file << ": " << total.n_accepted << "/" << total.n_drafted << " drafts accepted\n";
  }
}

// The random-weight MTP layer rarely agrees with the random target, so the test above mostly sees rejections.
// This wrapper drives the accepted-draft path: it asks the MtpDrafter for its draft at every step (recorded
// by position) but proposes the known greedy continuation (accepted) on the steps `accept` picks, and the
// MTP draft otherwise. Whatever the pattern, the MTP draft of each position must be the same: the hidden rows
// of the accepted drafts reach the MTP cache as those of single decoded tokens would.
class RecordingDrafter final : public Drafter {
 public:
  RecordingDrafter(MtpDrafter& inner, std::vector<int32_t> oracle, int32_t prompt_len, uint32_t pattern)
      : inner_(inner), oracle_(std::move(oracle)), prompt_len_(prompt_len), pattern_(pattern) {}
  void Reset(std::span<const int32_t> t) override { n_ = int32_t(t.size()); inner_.Reset(t); }
  void Accept(int32_t t) override { ++n_; inner_.Accept(t); }
  bool wants_hidden() const override { return true; }
  void AcceptHidden(int32_t pos, std::span<const float> rows) override { inner_.AcceptHidden(pos, rows); }
  void Propose(int32_t max_draft, std::vector<int32_t>& out) override {
    inner_.Propose(max_draft, out);
    if (!out.empty()) mtp_draft[n_] = out[0];
    const size_t g = size_t(n_ - prompt_len_);  // index of the token to draft in the greedy continuation
    if (((pattern_ >> (n_ % 31)) & 1u) && g < oracle_.size()) out.assign(1, oracle_[g]);
  }
  std::map<int32_t, int32_t> mtp_draft;  // sequence length when drafting -> the MTP's draft

 private:
  MtpDrafter& inner_;
  std::vector<int32_t> oracle_;
  int32_t prompt_len_, n_ = 0;
  uint32_t pattern_;
};

TEST(MtpDrafter, AcceptedDraftsFeedTheMtpCacheLikeDecodedTokens) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadDs3("ds3-f32.gguf");
  const auto ref = nlohmann::json::parse(test::ReadFileToString(Ds3Dir() + "/reference.json"));
  const std::vector<int32_t> prompt = Ids(ref, "greedy_prompt");
  std::vector<int32_t> oracle;
  {
    Context ctx(*model, 160, nullptr);
    std::vector<int32_t> hist;
    oracle = Gen(ctx, *model, hist, prompt, nullptr).r.tokens;
  }
  std::vector<std::map<int32_t, int32_t>> drafts;
  for (uint32_t pattern : {0u, 0xFFFFFFFFu, 0x5A5A5A5Au}) {
    Context ctx(*model, 160, nullptr);
    std::vector<int32_t> hist;
    MtpDrafter inner(*model, 160, nullptr);
    RecordingDrafter d(inner, oracle, int32_t(prompt.size()), pattern);
    const GenOut out = Gen(ctx, *model, hist, prompt, &d);
    EXPECT_EQ(out.r.tokens, oracle) << pattern;
    if (pattern != 0) EXPECT_GT(out.r.speculative.n_accepted, 10) << pattern;
    drafts.push_back(d.mtp_draft);
  }
  ASSERT_GE(drafts[0].size(), 35u);  // pattern 0: a draft at every step
  for (size_t k = 1; k < drafts.size(); ++k) {
    EXPECT_GE(drafts[k].size(), 8u);
    for (const auto& [len, tok] : drafts[k]) EXPECT_EQ(tok, drafts[0].at(len)) << "pattern " << k << " at " << len;
  }
}

TEST(MtpDrafter, SeededSamplingIsReproducible) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadDs3("ds3-f32.gguf");
  const auto ref = nlohmann::json::parse(test::ReadFileToString(Ds3Dir() + "/reference.json"));
  const std::vector<int32_t> prompt = Ids(ref, "greedy_prompt");
  std::vector<std::vector<int32_t>> outs;
  for (int i = 0; i < 2; ++i) {
    Context ctx(*model, 160, nullptr);
    std::vector<int32_t> hist;
    MtpDrafter d(*model, 160, nullptr);
    outs.push_back(Gen(ctx, *model, hist, prompt, &d, 0.8f).r.tokens);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0].size(), 40u);
}

}  // namespace
}  // namespace seek
