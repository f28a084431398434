// Device selection for commands. See device.h.
#include "model/device.h"

#include "util/error.h"

namespace r1 {

Device usable_device(const std::string& name) {
  Device d;
  try {
    d = parse_device(name);
  } catch (const Error& e) {
    throw Error(cat("--device: ", e.what()));
  }
  // Creating a tensor is the probe: on CUDA it initialises the device, and without one it throws
  // "--device cuda: no CUDA device available (...)" (tensor.cpp).
  Tensor::zeros({1}, d);
  return d;
}

}  // namespace r1
