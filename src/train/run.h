// A run folder: what every long command (pretrain, sft, grpo) writes, and what --resume reads.
//
//   RUN_DIR/run_config.json        the full configuration of the run (checked on --resume)
//   RUN_DIR/metrics.jsonl          one JSON object per step (and per evaluation)
//   RUN_DIR/checkpoints/step_00000100/
//       config.json model.safetensors tokenizer.json   a normal model directory, plus
//       optimizer.safetensors trainer_state.json        what resuming needs
//   RUN_DIR/model/                 the final model directory
// Checkpoints are written atomically (util/fs.h replace_dir_atomic) and only the last
// `keep_last` are kept. On --resume the metrics lines after the checkpoint's step are
// dropped, so a resumed run's metrics.jsonl reads as if it had never stopped.
// Data-parallel runs (docs/distributed.md): only rank 0 is the writer; on the other ranks a
// RunDir reads (latest_checkpoint, the --resume config check) and its writes are no-ops.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "util/json.h"

namespace r1 {

class RunDir {
 public:
  // New run: creates `path` (an existing non-empty folder is an error unless resume) and
  // writes run_config.json. Resume: the folder must exist and its run_config.json must equal
  // `config` (an error names the first differing field). writer = false (ranks other than 0):
  // a new run creates and checks nothing (rank 0 does), and log/truncate_metrics/save_checkpoint
  // write nothing.
  RunDir(const std::string& path, const Json& config, bool resume, bool writer = true);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // The newest checkpoint folder, or "" when there is none.
  std::string latest_checkpoint() const;
  // Writes checkpoints/step_<step> atomically: fill(tmp_dir) writes the files. Then deletes
  // all but the newest keep_last checkpoints (keep_last <= 0 keeps all).
  std::string save_checkpoint(int64_t step, int keep_last, const std::function<void(const std::string& dir)>& fill);

  // Appends one line to metrics.jsonl (flushed, so a crash loses at most the line being written).
  void log(const Json& metrics);
  // Drops metrics lines whose "step" is greater than `step` (on resume), and a last line cut
  // short by a crash; any other invalid line is an error naming metrics.jsonl:line.
  void truncate_metrics(int64_t step);

  bool writer() const { return writer_; }

 private:
  std::string path_;
  bool writer_ = true;
};

// The first field where two JSON documents differ ("train.lr: 0.001 vs 0.002"), or "".
std::string json_difference(const Json& a, const Json& b, const std::string& prefix = "");

}  // namespace r1
