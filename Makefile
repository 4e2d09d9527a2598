# r1lab — build, test, benchmark.
#   make                 build ./r1lab (CPU backend) and, when nvcc is found, the CUDA backend build/rel/libr1lab-cuda.so
#                        (CUDA=0 skips it, CUDA=1 insists; CUDA_ARCH=... overrides the targets, default sm_90 + PTX)
#   make test            build and run the criterion suite (no GPU, no Python needed), after check-layers; installs
#                        missing Debian packages first, as make demo does
#   make check-layers    the engine library needs no UI symbol and its folders include only what they may
#   make test SANITIZE=1 the same under AddressSanitizer + UBSan (objects in build/san)
#   make bench           CPU benchmarks against the PyTorch reference (needs python3 with torch for the ratio)
#   make demo            build, then run `r1lab demo`
#   make stress-saves    SIGKILL `r1lab train` KILLS=1000 times while it saves; every checkpoint is checked
#   make man-lint        lint the manual pages with mandoc and groff
#   make fuzz            libFuzzer targets for every parser (tests/fuzz, FUZZ_TIME seconds each); make fuzz-smoke: CI's
#   make cuda-resources  registers, spills and shared memory of every kernel (nvcc -Xptxas -v), as docs/cuda.md lists
#   make BUILD=build/portable MARCH=x86-64-v2 ...   a build for other x86-64 machines in its own directory (the
#                        binary is then build/portable/r1lab; bench/gpu_bundle.sh uses this)
VERSION := 0.1.0

CC       ?= cc
SANITIZE ?= 0
PREFIX   ?= /usr/local
MARCH    ?= native

ifeq ($(SANITIZE),1)
  BUILD    := build/san
  OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
  BIN      := $(BUILD)/r1lab
else
  BUILD    := build/rel
  OPTFLAGS := -O3 -g -march=$(MARCH)
  LDSAN    :=
  # ./r1lab for the default build; any other BUILD= (a portable build, say) keeps its binary to itself
  BIN      := $(if $(filter build/rel,$(BUILD)),r1lab,$(BUILD)/r1lab)
endif

# OpenBLAS: prefer Debian's OpenMP build so that BLAS and our own OpenMP loops share one thread pool
# (the pthread build spins its own threads against ours). Falls back to whatever pkg-config finds.
OPENBLAS_OMP_DIR := /usr/lib/x86_64-linux-gnu/openblas-openmp
ifneq ($(wildcard $(OPENBLAS_OMP_DIR)/libopenblas.so),)
  BLAS_CFLAGS := -I/usr/include/x86_64-linux-gnu/openblas-openmp
  BLAS_LIBS   := -L$(OPENBLAS_OMP_DIR) -Wl,-rpath,$(OPENBLAS_OMP_DIR) -lopenblas
else
  BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
  BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif

PKGS       := libcjson libpcre2-8 libutf8proc ncursesw readline libcurl
# readline's .pc adds -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=600; the build already defines _GNU_SOURCE, so drop them.
PKG_CFLAGS := $(filter-out -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=%,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lpcre2-8 -lutf8proc -lncursesw -ltinfo -lreadline -lcurl)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

GIT_REV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# backend.c looks for libr1lab-cuda.so in the install lib directory and in this build directory too.
CPPFLAGS += -D_GNU_SOURCE -DR1LAB_VERSION='"$(VERSION)"' -DR1LAB_GIT_REV='"$(GIT_REV)"' -Isrc \
            -DR1LAB_SHARE_DIR='"$(PREFIX)/share/r1lab"' -DR1LAB_LIB_DIR='"$(PREFIX)/lib/r1lab"' \
            -DR1LAB_MAN_DIR='"$(PREFIX)/share/man"' -DR1LAB_SOURCE_MAN_DIR='"$(CURDIR)/man"' \
            -DR1LAB_BUILD_LIB_DIR='"$(abspath $(BUILD))"' $(MPI_CFLAGS)
# -fno-math-errno and -fno-trapping-math change no result (nothing reads errno after maths or traps on FP
# exceptions); they let gcc vectorise loops with sqrtf and with comparisons (src/engine/backend/vexp.h).
CFLAGS   += -std=c11 -Wall -Wextra -Wno-unused-parameter -fopenmp -fno-math-errno -fno-trapping-math $(OPTFLAGS) $(BLAS_CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) $(BLAS_LIBS) $(MPI_LIBS) -lm -lpthread -ldl
LDFLAGS  += -fopenmp $(LDSAN)

# The engine (src/engine/*/, see src/engine/README.md) is a static library of its own: the front ends (cli, tui, repl
# and the text sanitiser they share) link against it, and `make test` checks that it needs nothing from them or from
# curses, readline or curl (tests/check_layers.sh).
# --- MPI: data-parallel training (mpirun -np N r1lab train), an optional feature found the way nvcc is ----------
# With Open MPI's development files (pkg-config ompi-c) src/engine/dist/dist_mpi.c is built and r1lab links libmpi;
# without them dist_single.c makes every run a group of one. MPI=0 leaves it out, MPI=1 insists.
MPI ?=
ifeq ($(MPI),0)
  MPI_BUILD := 0
  MPI_WHY   := off (MPI=0)
else ifeq ($(shell pkg-config --exists ompi-c 2>/dev/null && echo yes),yes)
  MPI_BUILD := 1
else ifeq ($(MPI),1)
  $(error MPI=1 but pkg-config finds no ompi-c: install libopenmpi-dev)
else
  MPI_BUILD := 0
  MPI_WHY   := off (no Open MPI development files: install libopenmpi-dev openmpi-bin for mpirun -np N r1lab train)
endif
ifeq ($(MPI_BUILD),1)
  MPI_CFLAGS := $(shell pkg-config --cflags ompi-c)
  MPI_LIBS   := $(shell pkg-config --libs ompi-c)
  DIST_DROP  := src/engine/dist/dist_single.c
else
  DIST_DROP  := src/engine/dist/dist_mpi.c
endif
# Which transport a build holds: the archive and the programs are rebuilt when it changes.
MPI_STAMP := $(BUILD)/mpi-$(MPI_BUILD).stamp

ENGINE_SRC := $(filter-out $(DIST_DROP),$(wildcard src/engine/*/*.c))
CLI_SRC    := $(wildcard src/cli/*.c)
TUI_SRC    := $(wildcard src/tui/*.c)
REPL_SRC   := $(wildcard src/repl/*.c)
TEXT_SRC   := $(wildcard src/text/*.c)
FRONT_SRC  := $(CLI_SRC) $(TUI_SRC) $(REPL_SRC) $(TEXT_SRC)
LIB_SRC    := $(ENGINE_SRC) $(FRONT_SRC)
TEST_SRC   := $(wildcard tests/*.c)

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
ENGINE_LIB := $(BUILD)/libr1lab-engine.a
# configs/r1-zero.json and configs/r1.json compiled in as r1lab_demo_config and r1lab_demo_r1_config (what
# `r1lab demo` and `r1lab demo r1` run), generated so that the demos and the files cannot differ.
DEMO_CONFIG_OBJ := $(BUILD)/gen/demo_config.o
FRONT_OBJ  := $(FRONT_SRC:%.c=$(BUILD)/%.o) $(DEMO_CONFIG_OBJ)
# What a program links: its own objects, then the front ends, then the engine archive.
LIB_OBJ  := $(FRONT_OBJ) $(ENGINE_LIB)
MAIN_OBJ := $(BUILD)/src/main.o
# The kernels' host-side planning code (plain C: launch geometry, copy batching, row grouping) is also linked into
# the test binary, which checks it without a device.
PLAN_SRC := $(wildcard kernels/*_plan.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(PLAN_SRC:%.c=$(BUILD)/host/%.o)
TEST_BIN := $(BUILD)/tests/r1lab-tests
# A stand-in trainer for the dashboard's integration tests (writes a run directory, obeys control.jsonl).
FAKE_TRAINER := $(BUILD)/tests/fake-trainer

# --- CUDA backend: a shared library that backend.c loads with dlopen, so ./r1lab itself never links CUDA ----------
CUDA      ?=
NVCC      ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_ARCH ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
ifeq ($(CUDA),0)
  CUDA_BUILD := 0
  CUDA_WHY   := off (CUDA=0)
else ifneq ($(NVCC),)
  CUDA_BUILD := 1
else ifeq ($(CUDA),1)
  $(error CUDA=1 but nvcc was not found: set NVCC=/path/to/nvcc)
else
  CUDA_BUILD := 0
  CUDA_WHY   := off (nvcc not found; the CPU backend alone is built)
endif
CUDA_LIB   := $(BUILD)/libr1lab-cuda.so
KERNEL_CU  := $(wildcard kernels/*.cu)
KERNEL_C   := $(wildcard kernels/*.c)
KERNEL_OBJ := $(KERNEL_CU:%.cu=$(BUILD)/%.cu.o) $(KERNEL_C:%.c=$(BUILD)/%.o)
# Kernels: optimised and with line info (compute-sanitizer and ncu name source lines); sanitizers never apply.
NVCCFLAGS  ?= -O3 -lineinfo
NVCC_ALL   := $(NVCCFLAGS) -std=c++17 $(CUDA_ARCH) -Isrc -Ikernels \
              -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Wno-unused-parameter
KERNEL_CFLAGS := -std=c11 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
                 -Isrc -Ikernels -I$(CUDA_HOME)/include -MMD -MP
ifeq ($(filter clean format man-lint test demo deps deps-check deps-list fuzz fuzz-smoke fuzz-deps,$(MAKECMDGOALS)),)
  ifeq ($(CUDA_BUILD),1)
    $(info r1lab: CUDA backend: building $(CUDA_LIB) with $(NVCC) ($(strip $(CUDA_ARCH))))
  else
    $(info r1lab: CUDA backend: $(CUDA_WHY))
  endif
  ifeq ($(MPI_BUILD),0)
    $(info r1lab: MPI: $(MPI_WHY))
  endif
endif
CUDA_TARGET := $(if $(filter 1,$(CUDA_BUILD)),$(CUDA_LIB))

.PHONY: all test test-run stress-saves check-layers bench bench-bin demo deps deps-check deps-list man-lint format clean \
        install cuda cuda-resources
all: $(BIN) $(CUDA_TARGET)

# The CUDA library alone (CI compiles it wherever nvcc exists, so that the kernels cannot rot unnoticed).
cuda: $(CUDA_TARGET)

$(BUILD)/kernels/%.cu.o: kernels/%.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_ALL) -MD -MF $(@:.o=.d) -c -o $@ $<

$(BUILD)/kernels/%.o: kernels/%.c
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<

# libcudart and cuBLAS come from the toolkit the library was built with (rpath), so it loads wherever that is.
$(CUDA_LIB): $(KERNEL_OBJ)
	$(NVCC) -shared $(CUDA_ARCH) --cudart shared -o $@ $^ -lcublasLt -lcublas \
	    -Xlinker -rpath -Xlinker $(CUDA_HOME)/lib64 -Xlinker -z -Xlinker defs

$(BUILD)/host/kernels/%.o: kernels/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ikernels $(CFLAGS) -c -o $@ $<

# Registers, spills and shared memory per kernel, from ptxas (no GPU needed).
cuda-resources:
	@bash bench/ptxas_report.sh "$(NVCC)" "$(CUDA_ARCH)"

$(ENGINE_LIB): $(ENGINE_OBJ) $(MPI_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(ENGINE_OBJ)

$(MPI_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/mpi-*.stamp
	@touch $@

$(BIN): $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/demo_config.c: configs/r1-zero.json configs/r1.json
	@mkdir -p $(dir $@)
	@{ echo '/* Generated by the Makefile from configs/r1-zero.json and configs/r1.json: what r1lab demo runs. */'; \
	   echo 'const char r1lab_demo_config[] = {'; \
	   od -An -v -tx1 configs/r1-zero.json | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0};'; \
	   echo 'const char r1lab_demo_r1_config[] = {'; \
	   od -An -v -tx1 configs/r1.json | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0};'; } > $@

$(DEMO_CONFIG_OBJ): $(BUILD)/gen/demo_config.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TEST_BIN): $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(CRIT_LIBS) $(LDLIBS)

$(FAKE_TRAINER): $(BUILD)/tests/tools/fake_trainer.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Kills `r1lab train` with SIGKILL while it saves, and checks every checkpoint left behind (tests/tools/save_stress.c).
SAVE_STRESS := $(BUILD)/tests/save-stress
$(SAVE_STRESS): $(BUILD)/tests/tools/save_stress.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The suite finds the binary under test, the fake trainer and the fixtures through these variables.
# OMP_NUM_THREADS=1: criterion runs tests in parallel processes, so each one keeps to a single thread.
# Like demo, installs missing packages first; the sub-make then reads the flags pkg-config gives for them.
test:
	@$(call deps_ensure,$(DEBIAN_PACKAGES))
	@$(MAKE) --no-print-directory test-run
test-run: $(BIN) $(TEST_BIN) $(FAKE_TRAINER) $(SAVE_STRESS) $(CUDA_TARGET) check-layers
	R1LAB_BIN=$(abspath $(BIN)) R1LAB_FAKE_TRAINER=$(abspath $(FAKE_TRAINER)) R1LAB_SAVE_STRESS=$(abspath $(SAVE_STRESS)) \
	R1LAB_ROOT=$(CURDIR) OMP_NUM_THREADS=1 $(TEST_BIN) $(TEST_ARGS)

# The layers: the engine archive references no curses, readline, curl, cli, tui, repl or text symbol, and each
# engine folder includes only the folders src/engine/README.md allows it.
check-layers: $(BIN) $(ENGINE_LIB) $(FRONT_OBJ)
	@bash tests/check_layers.sh $(ENGINE_LIB) $(BIN) $(FRONT_OBJ)

# The kill-during-save stress at full size (docs/testing.md): KILLS=1000 by default.
KILLS ?= 1000
stress-saves: $(BIN) $(SAVE_STRESS)
	R1LAB_BIN=$(abspath $(BIN)) R1LAB_ROOT=$(CURDIR) OMP_NUM_THREADS=1 nice -n 10 $(SAVE_STRESS) --kills $(KILLS)

BENCH_BIN := $(BUILD)/bench/bench_grpo
$(BENCH_BIN): $(BUILD)/bench/bench_grpo.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# CPU benchmarks: r1lab and the PyTorch reference (../shared/bench/torch_grpo_ref.py) in the same run.
bench: $(BIN) $(BENCH_BIN)
	BENCH_BIN=$(abspath $(BENCH_BIN)) bash bench/cpu.sh

# The benchmark binary alone (bench/gpu.sh builds it with the CUDA library).
bench-bin: $(BENCH_BIN) $(CUDA_TARGET)

# Debian packages r1lab builds against (.ci/run installs the same list through `make test`).
DEBIAN_PACKAGES := build-essential pkg-config libopenblas-openmp-dev libcjson-dev libcriterion-dev libpcre2-dev \
                   libutf8proc-dev libncurses-dev libreadline-dev libcurl4-openssl-dev mandoc groff-base tmux
# The one check of what is installed, shared by every target that installs packages when they are missing (demo,
# test, fuzz): prints the packages of $(1) that dpkg does not list as installed, or, on a system without dpkg, a
# note when pkg-config cannot find the libraries.
deps_missing = if command -v dpkg-query >/dev/null 2>&1; then \
                 for p in $(1); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | grep -q '^ii' || \
                   printf '%s ' $$p; done; \
               else pkg-config --exists $(PKGS) criterion 2>/dev/null || printf '(libraries pkg-config cannot find) '; fi
# Installs what deps_missing reports, through `make deps`; says nothing when all is there.
deps_ensure = missing=$$($(call deps_missing,$(1))); \
              if [ -n "$$missing" ]; then echo "r1lab: missing Debian packages: $$missing"; \
                $(MAKE) --no-print-directory deps DEPS_INSTALL="$(1)"; fi
DEPS_INSTALL ?= $(DEBIAN_PACKAGES)
deps:
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	 echo "installing: $(DEPS_INSTALL)"; \
	 $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $(DEPS_INSTALL)

# The package list, one line (CI removes them again to start `make demo` from a fresh machine's state).
deps-list:
	@echo $(DEBIAN_PACKAGES)

# Exits 1, naming them, when packages are missing (CI checks a fresh machine with it).
deps-check:
	@missing=$$($(call deps_missing,$(DEBIAN_PACKAGES))); \
	 if [ -n "$$missing" ]; then echo "missing: $$missing"; exit 1; fi; echo "all build packages are installed"

# The main job: installs what is missing, builds, and runs the demo (DEMO_ARGS: e.g. "max_steps=2 --headless").
DEMO_ARGS ?=
demo:
	@$(call deps_ensure,$(DEBIAN_PACKAGES))
	@$(MAKE) --no-print-directory all
	./$(BIN) demo $(DEMO_ARGS)

# --- fuzzing: libFuzzer + ASan + UBSan with Debian's clang (docs/testing.md) -------------------------------------
# One harness per parser in tests/fuzz/<target>.c; seeds in tests/fuzz/corpus/<target>/ (committed), inputs that
# once crashed in tests/fuzz/regressions/<target>/, dictionaries in tests/fuzz/dict/. The library is compiled again
# with clang into an archive, so each target links only the objects its parser needs. Its dashboard keeps 256
# points per series and reads 4 KB per pread (SERIES_CAP, RS_CHUNK): merging and lines across reads happen on
# inputs a fuzzer makes, and a run directory's reader is small enough to allocate for every input.
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="tokenizer sse_stream"]   run each target for FUZZ_TIME seconds
#   make fuzz-smoke                                                 replay corpus + regressions, then 3 s each (CI)
FUZZ_CC      ?= clang
FUZZ_BUILD   := build/fuzz
FUZZ_TIME    ?= 60
FUZZ_ALL     := $(sort $(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer -fopenmp -Wall -Wextra -Wno-unused-parameter -Wno-pass-failed \
                $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link $(BLAS_CFLAGS) $(PKG_CFLAGS) -DFUZZ_ROOT='"$(CURDIR)"' \
                -DSERIES_CAP=256 -DRS_CHUNK=4096 -Itests/fuzz -MMD -MP
FUZZ_LIB     := $(FUZZ_BUILD)/libr1lab.a
FUZZ_UTIL    := $(FUZZ_BUILD)/tests/fuzz/lib/fuzz_util.o
FUZZ_BINS    := $(FUZZ_ALL:%=$(FUZZ_BUILD)/fuzz-%)
# clang and its sanitizer/libFuzzer runtime (not part of the normal build's packages).
FUZZ_PACKAGES := clang libclang-rt-14-dev libomp-14-dev

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/tests/fuzz/%.o $(FUZZ_UTIL) $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -fopenmp -o $@ $^ $(LDLIBS)

.PHONY: fuzz fuzz-smoke fuzz-bin fuzz-deps fuzz-run fuzz-smoke-run
fuzz-bin: $(FUZZ_BINS)

# Installs clang's fuzzing runtime when it is missing (with the build packages, through the shared check).
fuzz-deps:
	@$(call deps_ensure,$(DEBIAN_PACKAGES) $(FUZZ_PACKAGES))

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-run
fuzz-run: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $(FUZZ_BUILD) $$t $(FUZZ_TIME) || exit 1; done

fuzz-smoke: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-smoke-run
fuzz-smoke-run: $(FUZZ_BINS)
	@for t in $(FUZZ_ALL); do tests/fuzz/run.sh --smoke $(FUZZ_BUILD) $$t 3 || exit 1; done

MAN_PAGES := $(wildcard man/*.[15])
man-lint:
	@for m in $(MAN_PAGES); do mandoc -T lint -W warning $$m || exit 1; \
	   if groff -man -ww -z $$m 2>&1 | grep .; then echo "$$m: groff warnings"; exit 1; fi; done
	@echo "man pages: $(words $(MAN_PAGES)) linted"

format:
	clang-format -i $(LIB_SRC) src/main.c $(TEST_SRC) $(wildcard src/*/*.h src/engine/*/*.h) $(wildcard kernels/*.c kernels/*.h kernels/*.cu)

install: $(BIN) $(CUDA_TARGET)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/r1lab
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -d $(DESTDIR)$(PREFIX)/share/r1lab/themes $(DESTDIR)$(PREFIX)/share/r1lab/models/base \
	           $(DESTDIR)$(PREFIX)/share/r1lab/models/base-aha $(DESTDIR)$(PREFIX)/share/r1lab/models/base-search
	install -m 644 $(wildcard themes/*.theme) $(DESTDIR)$(PREFIX)/share/r1lab/themes
	install -m 644 $(wildcard models/base/*) $(DESTDIR)$(PREFIX)/share/r1lab/models/base
	install -m 644 $(wildcard models/base-aha/*) $(DESTDIR)$(PREFIX)/share/r1lab/models/base-aha
	install -m 644 $(wildcard models/base-search/*) $(DESTDIR)$(PREFIX)/share/r1lab/models/base-search
	$(if $(CUDA_TARGET),install -d $(DESTDIR)$(PREFIX)/lib/r1lab && install -m 755 $(CUDA_LIB) $(DESTDIR)$(PREFIX)/lib/r1lab)

clean:
	rm -rf build r1lab

-include $(ENGINE_OBJ:.o=.d) $(FRONT_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/bench/bench_grpo.d \
           $(BUILD)/tests/tools/fake_trainer.d $(BUILD)/tests/tools/save_stress.d $(KERNEL_OBJ:.o=.d) \
           $(wildcard $(FUZZ_BUILD)/src/*/*.d $(FUZZ_BUILD)/src/engine/*/*.d $(FUZZ_BUILD)/tests/fuzz/*.d \
                      $(FUZZ_BUILD)/tests/fuzz/lib/*.d)
