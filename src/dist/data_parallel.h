// Data parallelism on top of the communicator: the gradient reduction with a fixed order, and
// the MoE routers' global expert load. Used by the trainers (train/, rl/); nothing below them
// knows about ranks.
//
// The fixed-order gradient reduction (why N ranks give the bits of 1 rank):
//   A step's gradient is a sum of "units" (a micro-batch's gradient in pretraining/SFT, a rank's
//   minibatch share in GRPO), numbered globally; rank r holds units [r*K, (r+1)*K). Each unit's
//   gradient is computed from zero (add_unit() takes the parameters' .grad and drops it), so a
//   unit's bits depend only on its data and the weights, not on the rank that computed it.
//   reduce() then adds the units in global order, g = ((u_0 + u_1) + u_2) + ..., elementwise:
//     1 rank:  add_unit() keeps a running sum in that order (one extra gradient in memory).
//     N ranks: the flat gradient (every parameter end to end, padded to N*S) is cut into N
//              slices of S; an all-to-all sends slice q of every unit to rank q, which adds the
//              N*K units of its slice in global order; an all-gather of the summed slices gives
//              every rank the whole sum. 2 * (N-1)/N * 4P bytes leave each rank per step (K = 1),
//              the volume of a ring all-reduce, with a summation order that is ours, not the
//              library's.
//   Floating-point addition in the same order on the same values gives the same bits, so
//   N ranks and 1 rank get the same gradient, then (every rank running the same AdamW on it) the
//   same weights. A parameter no unit reached keeps an undefined .grad (AdamW skips it, as on
//   one rank): one flag per parameter travels with the gradient.
// Does not do: overlapping the reduction with the backward pass, sharding optimizer state.
#pragma once
#include <cstdint>
#include <vector>

#include "dist/comm.h"
#include "model/transformer.h"

namespace r1 {

class GradReducer {
 public:
  // params: the tensors whose .grad is reduced, in a fixed order (the same on every rank).
  GradReducer(Communicator& comm, std::vector<Tensor> params);

  // Takes the current gradients of params as the next local unit and drops them (each unit's
  // gradient is computed from zero). Every rank adds the same number of units per step.
  void add_unit();
  // Sums all units of all ranks in global order into params' .grad and starts a new step.
  void reduce();

  int64_t flat_size() const { return padded_; }          // floats per unit (parameters + flags + padding)
  double comm_seconds() const { return comm_seconds_; }  // time spent in collectives so far

 private:
  Tensor flatten() const;               // params' grads -> (padded_) on the communicator's device
  void write_back(const Tensor& flat);  // (padded_) -> params' grads

  Communicator& comm_;
  std::vector<Tensor> params_;
  int64_t numel_ = 0, padded_ = 0;
  Tensor sum_;                 // 1 rank: running sum of the units, (padded_)
  std::vector<Tensor> units_;  // N ranks: this rank's units, each (padded_)
  double comm_seconds_ = 0;
};

// Sums every MoE layer's expert load (and routed-token count) over ranks, so that
// update_router_bias() on each rank sees the global load and makes the same bias update.
// Integers summed in double: exact below 2^53 token-slots.
void reduce_router_load(Transformer& model, Communicator& comm);

}  // namespace r1
