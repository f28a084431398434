// The reward model: scalar head on the transformer, its directory format, the Bradley-Terry
// loss. See reward_model.h.
#include "reward/reward_model.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "model/checkpoint.h"
#include "ops/ops.h"
#include "sample/template.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace r1 {

// --- config.json ---------------------------------------------------------------------------

static const char* kArchSuffix = "ForSequenceClassification";

// The backbone's config.json marked as a one-label sequence classifier.
static Json rm_config_json(const Config& c, int eos_id) {
  Json j = c.to_json();
  std::string arch = j.at("architectures")[0].as_string();  // "<Name>ForCausalLM"
  arch = arch.substr(0, arch.find("ForCausalLM")) + kArchSuffix;
  j["architectures"] = Json(Json::Array{Json(arch)});
  j["num_labels"] = 1;
  j["id2label"] = Json(Json::Object{{"0", "LABEL_0"}});
  j["label2id"] = Json(Json::Object{{"LABEL_0", 0}});
  if (eos_id >= 0) j["pad_token_id"] = eos_id;  // what HF's classifier pads with; r1 ignores it
  return j;
}

// Reads an RM config.json: checks the classifier marker, then the backbone config without it.
static Config read_rm_config(const std::string& path) {
  Json j = Json::parse_file(path);
  if (!j.is_object()) throw Error(cat(path, ": expected a JSON object"));
  const Json* arch = j.find("architectures");
  bool is_rm = arch && arch->is_array() && arch->size() == 1 && (*arch)[0].is_string() &&
               (*arch)[0].as_string().find(kArchSuffix) != std::string::npos;
  if (!is_rm)
    throw Error(cat(path, ": field 'architectures' must be [\"...", kArchSuffix,
                    "\"] (this is not a reward model directory; make one with r1 rm train)"));
  const Json* labels = j.find("num_labels");
  if (labels && !(labels->is_number() && labels->as_number() == 1))
    throw Error(cat(path, ": field 'num_labels' must be 1, got ", labels->dump()));
  const Json* id2label = j.find("id2label");
  if (id2label && !(id2label->is_object() && id2label->size() == 1))
    throw Error(cat(path, ": field 'id2label' must hold exactly one label, got ", id2label->dump()));
  Json backbone = Json::object();
  for (const auto& [key, value] : j.as_object())
    if (key != "num_labels" && key != "id2label" && key != "label2id") backbone[key] = value;
  return Config::from_json(backbone, path);
}

// --- construction and files ------------------------------------------------------------------

// tokenizer.json's text -> the tokenizer; errors name `source`.
static Tokenizer parse_tokenizer(const std::string& text, const std::string& source) {
  try {
    return Tokenizer::from_json(Json::parse(text, source));
  } catch (const Error& e) {
    std::string msg = e.what();
    throw Error(msg.rfind(source, 0) == 0 ? msg : cat(source, ": ", msg));
  }
}

RewardModel::RewardModel(Transformer backbone, std::string tokenizer_json, const std::string& tokenizer_source)
    : backbone_(std::move(backbone)),
      tokenizer_json_(std::move(tokenizer_json)),
      tokenizer_(parse_tokenizer(tokenizer_json_, tokenizer_source)) {
  if (tokenizer_.vocab_size() > backbone_.config().vocab_size)
    throw Error(cat(tokenizer_source, ": the tokenizer has ", tokenizer_.vocab_size(),
                    " tokens but the model's vocab_size is ", backbone_.config().vocab_size));
  head_ = make_param({1, backbone_.config().hidden_size}).to(backbone_.device());
}

RewardModel RewardModel::from_causal_lm(const std::string& model_dir, uint64_t seed, float head_std) {
  check(head_std > 0, "reward model: head_std must be > 0, got ", head_std);
  RewardModel rm(load_model(model_dir), read_file(model_dir + "/tokenizer.json"), model_dir + "/tokenizer.json");
  Rng rng(seed, /*stream=*/0x5C03E);  // a stream of its own: the head does not mirror any backbone init
  NoGradGuard guard;
  rm.head_.copy_from(Tensor::randn(rm.head_.shape(), rng, head_std));
  return rm;
}

RewardModel RewardModel::load(const std::string& dir) {
  RewardModel rm(Transformer(read_rm_config(dir + "/config.json")), read_file(dir + "/tokenizer.json"),
                 dir + "/tokenizer.json");
  rm.load_weights_from(dir + "/model.safetensors");
  return rm;
}

void RewardModel::load_weights_from(const std::string& safetensors_path) {
  load_slots(slots(), load_safetensors(safetensors_path));
}

TensorSlots RewardModel::slots() {
  TensorSlots out;
  for (const TensorSlot& s : backbone_.slots())
    if (s.name != "lm_head.weight") out.push_back(s);
  out.push_back({"score.weight", &head_});
  return out;
}

void RewardModel::write_files(const std::string& dir) {
  write_file_atomic(dir + "/config.json",
                    rm_config_json(backbone_.config(), tokenizer_.token_id("<|endoftext|>")).dump(2) + "\n");
  save_safetensors(dir + "/model.safetensors", export_slots(slots()), {{"format", "pt"}});
  write_file_atomic(dir + "/tokenizer.json", tokenizer_json_);
}

void RewardModel::save(const std::string& dir) {
  replace_dir_atomic(dir, [&](const std::string& tmp) { write_files(tmp); });
}

std::vector<NamedTensor> RewardModel::parameters() {
  std::vector<NamedTensor> out;
  for (const TensorSlot& s : slots())
    if (s.tensor->requires_grad()) out.push_back({s.name, *s.tensor});
  return out;
}

void RewardModel::to(Device device) {
  backbone_.to(device);
  head_ = head_.to(device).detach().set_requires_grad(true);
}

// --- scoring ------------------------------------------------------------------------------------

Ids RewardModel::encode(const std::string& prompt, const std::string& completion) const {
  std::vector<int> ids = tokenizer_.encode(chat_prompt(prompt, false) + completion);
  size_t max_len = size_t(backbone_.config().max_position_embeddings);
  size_t skip = ids.size() > max_len ? ids.size() - max_len : 0;  // keep the end: the reply
  return Ids(ids.begin() + long(skip), ids.end());
}

Tensor RewardModel::forward(const std::vector<Ids>& seqs, Tensor* aux_loss) {
  check(!seqs.empty(), "reward model: no sequences to score");
  const int64_t N = int64_t(seqs.size());
  int64_t T = 0;
  for (const Ids& s : seqs) {
    check(!s.empty(), "reward model: an empty token sequence has no last token to score");
    T = std::max(T, int64_t(s.size()));
  }
  Ids ids(size_t(N * T), 0);  // (N, T) right-padded with token 0
  Ids last(static_cast<size_t>(N));  // (N) flat row of each sequence's last real token
  for (int64_t n = 0; n < N; n++) {
    std::copy(seqs[size_t(n)].begin(), seqs[size_t(n)].end(), ids.begin() + n * T);
    last[size_t(n)] = int32_t(n * T + int64_t(seqs[size_t(n)].size()) - 1);
  }
  Tensor h = backbone_.forward_hidden(ids, N, T, aux_loss);  // (N*T, D)
  Tensor h_last = index_select(h, last);                     // (N, D)
  return reshape(linear(h_last, head_), {N});                // (N, 1) -> (N)
}

std::vector<double> RewardModel::score(const std::vector<std::string>& prompts,
                                       const std::vector<std::string>& completions, int64_t batch_size) {
  check(prompts.size() == completions.size(), "reward model: ", prompts.size(), " prompts but ",
        completions.size(), " completions");
  check(batch_size >= 1, "reward model: batch_size must be >= 1, got ", batch_size);
  NoGradGuard guard;
  std::vector<double> out;
  for (size_t start = 0; start < prompts.size(); start += size_t(batch_size)) {
    size_t end = std::min(prompts.size(), start + size_t(batch_size));
    std::vector<Ids> seqs;
    for (size_t i = start; i < end; i++) seqs.push_back(encode(prompts[i], completions[i]));
    for (float r : forward(seqs).to_vector()) out.push_back(double(r));
  }
  return out;
}

// --- loss ------------------------------------------------------------------------------------

Tensor bradley_terry_loss(const Tensor& r_chosen, const Tensor& r_rejected) {
  check(r_chosen.dim() == 1 && r_chosen.shape() == r_rejected.shape(), "bradley_terry_loss: r_chosen ",
        shape_str(r_chosen.shape()), " and r_rejected ", shape_str(r_rejected.shape()), " must be the same (N)");
  const int64_t N = r_chosen.shape()[0];
  // -log sigmoid(rc - rr) = -log_softmax([rc, rr])[0]: cross_entropy's stable log-sum-exp does it.
  Tensor logits = concat({reshape(r_chosen, {N, 1}), reshape(r_rejected, {N, 1})}, 1);  // (N, 2)
  return cross_entropy(logits, Ids(size_t(N), 0));
}

}  // namespace r1
