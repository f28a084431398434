// The neural reward model of DeepSeek-R1's alignment stage (helpfulness/harmlessness): a
// transformer backbone with a scalar head, trained on preference pairs (train/rm_trainer.h).
//
//   text    = chat_prompt(prompt, false) + completion     (sample/template.h), tokenized with the
//             model's tokenizer, cut from the left to max_position_embeddings tokens
//   h       = final-RMSNorm'd hidden state at the text's last token     (Transformer::forward_hidden)
//   r(x, y) = score.weight . h                                           (score.weight: (1, D))
//
// This is Hugging Face's *ForSequenceClassification with num_labels = 1. Batches are right-padded;
// attention is causal, so the last real token never sees the padding and a score does not depend
// on the batch around it.
//
// Model directory (docs/formats.md): config.json = the backbone's config with "architectures":
// ["<Llama|Qwen2|DeepseekV3>ForSequenceClassification"], "num_labels": 1, id2label/label2id;
// model.safetensors = the backbone's tensors without lm_head.weight, plus score.weight (1, D);
// tokenizer.json. Loading is strict (model/checkpoint.h): a causal-LM directory is not an RM
// directory and vice versa.
//
// The Bradley-Terry loss over pairs: L = mean_i -log sigmoid(r_chosen_i - r_rejected_i).
// Does not do: training (train/rm_trainer.h), multi-label heads, value heads per token.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/device.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace r1 {

class RewardModel {
 public:
  // A new reward model from the causal LM in `model_dir` (config.json, model.safetensors,
  // tokenizer.json): its backbone and tokenizer, lm_head unused, score.weight drawn from
  // normal(0, head_std) with Rng(seed).
  static RewardModel from_causal_lm(const std::string& model_dir, uint64_t seed, float head_std = 0.02f);
  // An RM directory. Errors name the file and the field or tensor.
  static RewardModel load(const std::string& dir);
  // Writes the RM directory, replacing `dir` atomically.
  void save(const std::string& dir);
  // The same three files into an existing folder (training checkpoints add optimizer state).
  void write_files(const std::string& dir);
  // Copies the backbone and head weights of an RM directory's model.safetensors into this model
  // (strict, as load), for resuming from a checkpoint.
  void load_weights_from(const std::string& safetensors_path);

  // One score per (prompt, completion) pair, no autograd, batch_size texts per forward.
  std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& completions,
                            int64_t batch_size = 16);

  // The token ids of one (prompt, completion) text, left-truncated to max_position_embeddings.
  Ids encode(const std::string& prompt, const std::string& completion) const;
  // seqs: N token sequences (non-empty, any lengths) -> scores (N), with autograd. Adds the MoE
  // balance loss to *aux_loss when not null.
  Tensor forward(const std::vector<Ids>& seqs, Tensor* aux_loss = nullptr);

  // The trainable tensors: the backbone's (without lm_head.weight) and score.weight.
  std::vector<NamedTensor> parameters();
  // Moves the backbone and head to `device` (before handing parameters() to an optimizer).
  void to(Device device);

  Transformer& backbone() { return backbone_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  Tensor& head() { return head_; }  // (1, D) score.weight

 private:
  RewardModel(Transformer backbone, std::string tokenizer_json, const std::string& tokenizer_source);
  TensorSlots slots();  // checkpoint tensors in file order: the backbone's without lm_head, then score.weight

  Transformer backbone_;
  std::string tokenizer_json_;  // tokenizer.json's text, written back as it was read
  Tokenizer tokenizer_;
  Tensor head_;  // (1, D) score.weight
};

// Bradley-Terry pair loss: r_chosen, r_rejected: (N) -> (): mean_i softplus(r_rejected_i - r_chosen_i)
// = mean_i -log sigmoid(r_chosen_i - r_rejected_i), computed stably (a 2-way cross-entropy).
Tensor bradley_terry_loss(const Tensor& r_chosen, const Tensor& r_rejected);

}  // namespace r1
