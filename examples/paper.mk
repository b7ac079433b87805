# The paper's comparison and the research targets, on the pipeline of Makefile (included
# below). Run as make -f paper.mk TARGET, or make TARGET, which runs this file:
#
#   paper                    SIFT-DEB end to end: writes ../docs/results.md and its plots
#   paper PAPER=siftsmall    the bundled sample, in a few minutes: out/paper-siftsmall/results.md
#   router / router-siftdeb  the learned router's duplication rounds (SERIES=k kernel, SERIES=r MLP)
#   spann / spann-siftdeb    SPANN's replication and query pruning, against plain k-means
#   memory / memory-siftdeb  routers at equal memory per base vector (ann-train --memory)
#   siftdeb                  Makefile's demo on SIFT-DEB (K = 1024)
#
# The targets without -siftdeb run on the bundled data into out/siftsmall; SIFT-DEB is read
# from $(SHARED)/siftdeb. Every recipe line that makes a file in OUT runs through record.sh,
# which appends it to OUT/commands.sh and its wall time and peak memory to OUT/times.tsv.

PAPER_MK = 1
SHARED   ?= ../../shared/data
SEED     ?= 1
LEVEL    ?= 3
# The learned router (ann-train, ann-dup): epochs per round and duplication rounds (the paper
# trains 50 epochs, duplicates, trains 50, duplicates, trains 50), the share of training
# queries whose keys a round copies, the MLP router's kind.
EPOCHS   ?= 50
ROUNDS   ?= 2
FRACTION ?= 0.2
ROUTER   ?= residual
# The kernel router (ann-train --router kernel): points per cluster (empty: ann-train's
# default), their learning rate, epochs of round 0 and of each later round (training after a
# duplication has never beaten its start on held-out loss, so one epoch checks it), the memory
# it may hold (256 points per cluster take 99 B per base vector on SIFT-DEB), and the
# probability-per-vector thresholds its curves sweep.
POINTS   ?=
POINT_LR ?= 0.1
KEPOCHS  ?= 3
KREPOCHS ?= 1
KMEMORY  ?= 128B/vector
THRESHOLDS ?= 1e-2,5e-3,3e-3,2e-3,1.5e-3,1e-3,7e-4,5e-4,3e-4,2e-4,1e-4,5e-5,2e-5,1e-5
# Vector budgets of the router target's curves (SERIES=r) and of the paper's, and the
# paper's nprobe curves of the two baselines.
BUDGETS  ?= 100,200,300,400,500,600,800,1000,1200,1600,2000,3000
PAPER_BUDGETS ?= 50,100,150,200,250,300,400,500,600,800,1000,1500,2000
PAPER_NPROBES ?= 1,2,3,4,5,6,8,10,12,16
# SPANN's baseline: each vector also in up to REPLICAS clusters within (1+EPSILON) times the
# distance of its nearest centroid (ann-kmeans --replicate), and query-time pruning.
REPLICAS ?= 8
EPSILON  ?= 0.1
PRUNE    ?= 0.2
# The MLP router's curves rank clusters by probability per vector fetched.
SIZE_WEIGHT ?= 1

include Makefile

$(OUT)/%: SHELL = ./record.sh
$(OUT)/%: .SHELLFLAGS = $(OUT) $(notdir $@) -c
.PHONY: paper paper-files memory memory-siftdeb router router-siftdeb spann spann-siftdeb siftdeb

# --- The learned router and its duplication rounds -----------------------------------------
# Two series of rounds: r, the MLP router (--router $(ROUTER)), by vector budget; k, the kernel
# router, by threshold. Round 0 trains on the k-means index; ann-train and ann-dup read which
# clusters hold each vector from the index itself.
$(OUT)/index.r0.anni $(OUT)/index.k0.anni: $(OUT)/index.anni
	cp $< $@
$(OUT)/model.r0.annm: $(OUT)/index.r0.anni $(OUT)/train-gt.annn $(TRAIN)
	ann-train -v --router $(ROUTER) --epochs $(EPOCHS) --seed $(SEED) --index $(OUT)/index.r0.anni \
	  --gt $(OUT)/train-gt.annn -o $@ $(TRAIN)
$(OUT)/model.k0.annm: $(OUT)/index.k0.anni $(OUT)/train-gt.annn $(TRAIN)
	ann-train -v --router kernel --memory $(KMEMORY) $(if $(POINTS),--points $(POINTS)) --point-lr $(POINT_LR) --epochs $(KEPOCHS) \
	  --seed $(SEED) --index $(OUT)/index.k0.anni --gt $(OUT)/train-gt.annn -o $@ $(TRAIN)

# Round $(2) of series $(1): duplicate with the model of round $(3) (the new assignment is the
# index's membership plus the copies), write the next index from the current one (ann-dup
# --next-index: byte for byte what ann-pack makes from the base and that assignment), and
# train on from that model with flags $(4).
define ROUND
$(OUT)/assign.$(1)$(2).ivecs $(OUT)/index.$(1)$(2).anni &: $(OUT)/model.$(1)$(3).annm $(OUT)/index.$(1)$(3).anni $(OUT)/train-gt.annn
	ann-dup -v --fraction $(FRACTION) --model $(OUT)/model.$(1)$(3).annm --index $(OUT)/index.$(1)$(3).anni \
	  --gt $(OUT)/train-gt.annn -o $(OUT)/assign.$(1)$(2).ivecs --next-index $(OUT)/index.$(1)$(2).anni $(TRAIN)
$(OUT)/model.$(1)$(2).annm: $(OUT)/model.$(1)$(3).annm $(OUT)/index.$(1)$(2).anni $(OUT)/train-gt.annn
	ann-train -v $(4) --seed $(SEED) --init $(OUT)/model.$(1)$(3).annm --index $(OUT)/index.$(1)$(2).anni \
	  --gt $(OUT)/train-gt.annn -o $$@ $(TRAIN)
endef
$(foreach r,$(shell seq 1 $(ROUNDS)),$(eval $(call ROUND,r,$(r),$(shell expr $(r) - 1),--epochs $(EPOCHS))))
$(foreach r,$(shell seq 1 $(ROUNDS)),$(eval $(call ROUND,k,$(r),$(shell expr $(r) - 1),--point-lr $(POINT_LR) --epochs $(KREPOCHS))))
ROUND_NUMBERS = $(shell seq 0 $(ROUNDS))

# make router: centroid routing by vector budget, and the router after each round of SERIES.
SERIES ?= k
$(OUT)/budget.centroid.tsv: $(OUT)/index.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep --index $(OUT)/index.anni --gt $(OUT)/gt.annn --budget $(BUDGETS) --label "centroid routing" \
	  -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/budget.r%.tsv: $(OUT)/index.r%.anni $(OUT)/model.r%.annm $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep --index $(OUT)/index.r$*.anni --model $(OUT)/model.r$*.annm --gt $(OUT)/gt.annn --budget $(BUDGETS) \
	  --label "MLP router, $* duplication rounds" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/budget.k%.tsv: $(OUT)/index.k%.anni $(OUT)/model.k%.annm $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep --index $(OUT)/index.k$*.anni --model $(OUT)/model.k$*.annm --gt $(OUT)/gt.annn --threshold $(THRESHOLDS) \
	  --label "kernel router, $* duplication rounds" -o $@ $(QUERIES) > $(@:.tsv=.txt)
ROUTER_CURVES = $(OUT)/budget.centroid.tsv $(foreach r,$(ROUND_NUMBERS),$(OUT)/budget.$(SERIES)$(r).tsv)
$(OUT)/rounds.md: $(ROUTER_CURVES)
	ann-eval compare --target $(TARGET) -o $@ $^
$(OUT)/rounds.svg: $(ROUTER_CURVES)
	ann-eval plot -o $@ --title "recall@1 against vectors fetched: centroid routing and the learned router" $^

router: $(OUT)/rounds.md $(OUT)/rounds.svg
	@cat $(OUT)/rounds.md
	@echo "plot: $(abspath $(OUT)/rounds.svg)"

# --- SPANN's baseline: the same centroids, vectors near a boundary also in the next clusters
$(OUT)/spann.ivecs: $(BASE) $(OUT)/centroids.fvecs
	ann-kmeans -v --centroids $(OUT)/centroids.fvecs --metric $(METRIC) --replicate --replicas $(REPLICAS) --epsilon $(EPSILON) \
	  --assignments $@ $(BASE)
$(OUT)/spann.anni: $(BASE) $(OUT)/centroids.fvecs $(OUT)/spann.ivecs
	ann-pack -q --metric $(METRIC) --level $(LEVEL) --centroids $(OUT)/centroids.fvecs --assignments $(OUT)/spann.ivecs -o $@ $(BASE)
$(OUT)/spann.tsv: $(OUT)/spann.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep --index $(OUT)/spann.anni --gt $(OUT)/gt.annn --nprobe $(NPROBES) --target $(TARGET) \
	  --label "SPANN, epsilon $(EPSILON)" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/spann.pruned.tsv: $(OUT)/spann.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep --index $(OUT)/spann.anni --gt $(OUT)/gt.annn --nprobe $(NPROBES) --target $(TARGET) --prune $(PRUNE) \
	  --label "SPANN, epsilon $(EPSILON), pruned $(PRUNE)" -o $@ $(QUERIES) > $(@:.tsv=.txt)
SPANN_CURVES = $(OUT)/curve.tsv $(OUT)/spann.tsv $(OUT)/spann.pruned.tsv
$(OUT)/spann.md: $(SPANN_CURVES)
	ann-eval compare --target $(TARGET) -o $@ $^
$(OUT)/spann.svg: $(SPANN_CURVES)
	ann-eval plot -o $@ --title "recall@1 against vectors fetched: k-means and SPANN's replication" $^

spann: $(OUT)/spann.md $(OUT)/spann.svg
	@cat $(OUT)/spann.md
	@echo "plot: $(abspath $(OUT)/spann.svg)"

# --- Routers at equal memory ---------------------------------------------------------------
# Each router of MEMORY_ROUTERS trained to fit each of MEMORIES bytes per base vector, on each
# training set of MEMORY_TRAINS (learn: LEARN alone; train: TRAIN), and swept by probability
# threshold: pq is the default router (rotated codes of the vectors nearest a cluster
# boundary, learned calibration), pqt the PQ-in-memory baseline (plain codes of every vector,
# softmax of the best candidate's distance, temperature fitted), mlp the residual MLP, kernel
# the kernel router.
MEMORIES ?= 2 4 8 16 32 64
MEMORY_ROUTERS ?= pq pqt
MEMORY_TRAINS ?= learn train
LEARN ?= $(TRAIN)
# The training sets' names in the table.
LEARN_LABEL ?= $(notdir $(LEARN))
TRAIN_LABEL ?= $(notdir $(TRAIN))
MEMORY_THRESHOLDS ?= $(THRESHOLDS)
MEM_pq     = --router pq
MEM_pqt    = --router pq --calibration temperature --coded-share 1 --rotation none
MEM_mlp    = --router residual --epochs $(EPOCHS)
MEM_kernel = --router kernel --point-lr $(POINT_LR) --epochs $(KEPOCHS)
NAME_pq     = PQ router (learned)
NAME_pqt    = PQ in memory (temperature)
NAME_mlp    = MLP router
NAME_kernel = kernel router
FILE_learn = $(LEARN)
FILE_train = $(TRAIN)
$(OUT)/learn-gt.annn: $(BASE) $(LEARN) | $(OUT)
	ann-groundtruth --base $(BASE) -k 1 --metric $(METRIC) -o $@ $(LEARN)

# mem.$(1).$(2).$(3): router $(1) trained on training set $(2) to fit $(3) bytes per base vector.
define MEMORY
$(OUT)/mem.$(1).$(2).$(3).annm: $(OUT)/index.anni $(OUT)/$(2)-gt.annn $(FILE_$(2))
	ann-train -v $(MEM_$(1)) --memory $(3)B/vector --seed $(SEED) --index $(OUT)/index.anni \
	  --gt $(OUT)/$(2)-gt.annn -o $$@ $(FILE_$(2))
$(OUT)/mem.$(1).$(2).$(3).tsv: $(OUT)/mem.$(1).$(2).$(3).annm $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $(OUT)/index.anni --model $$< --gt $(OUT)/gt.annn --threshold $(MEMORY_THRESHOLDS) --target $(TARGET) \
	  --label "$(NAME_$(1)), $(2), $(3) B/vector" -o $$@ $(QUERIES) > $$(@:.tsv=.txt)
endef
$(foreach r,$(MEMORY_ROUTERS),$(foreach t,$(MEMORY_TRAINS),$(foreach m,$(MEMORIES),$(eval $(call MEMORY,$(r),$(t),$(m))))))
MEMORY_CURVES = $(foreach r,$(MEMORY_ROUTERS),$(foreach t,$(MEMORY_TRAINS),$(foreach m,$(MEMORIES),$(OUT)/mem.$(r).$(t).$(m).tsv)))
$(OUT)/memory.md $(OUT)/memory.svg &: $(MEMORY_CURVES) $(OUT)/paper.centroid.tsv
	MEMORY_LEARN_NAME="$(LEARN_LABEL)" MEMORY_TRAIN_NAME="$(TRAIN_LABEL)" \
	  ./memory.sh "$(OUT)" "$(TARGET)" "$(MEMORIES)" "$(MEMORY_ROUTERS)" "$(MEMORY_TRAINS)" > $(OUT)/memory.md.tmp && mv $(OUT)/memory.md.tmp $(OUT)/memory.md
	MEMORY_LEARN_NAME="$(LEARN_LABEL)" MEMORY_TRAIN_NAME="$(TRAIN_LABEL)" python3 memory_plot.py $(OUT)/memory.tsv $(OUT)/memory.svg

memory: $(OUT)/memory.md
	@cat $(OUT)/memory.md

# --- The paper's comparison, end to end ----------------------------------------------------
# Centroid routing; SPANN-style replication with centroid routing, without and with query
# pruning; the learned routers before and after each duplication round (the MLP by vector
# budget, the kernel router by threshold); the nprobe curves of the two baselines beside them;
# and the routers at equal memory.
$(OUT)/paper.centroid.tsv: $(OUT)/index.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $< --gt $(OUT)/gt.annn --budget $(PAPER_BUDGETS) --label "centroid routing" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.centroid-nprobe.tsv: $(OUT)/index.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $< --gt $(OUT)/gt.annn --nprobe $(PAPER_NPROBES) --label "centroid routing, nprobe" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.spann.tsv: $(OUT)/spann.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $< --gt $(OUT)/gt.annn --budget $(PAPER_BUDGETS) --label "SPANN-style replication" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.spann-pruned.tsv: $(OUT)/spann.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $< --gt $(OUT)/gt.annn --budget $(PAPER_BUDGETS) --prune $(PRUNE) \
	  --label "SPANN-style replication, pruned $(PRUNE)" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.spann-nprobe.tsv: $(OUT)/spann.anni $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $< --gt $(OUT)/gt.annn --nprobe $(PAPER_NPROBES) --label "SPANN-style replication, nprobe" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.r%.tsv: $(OUT)/index.r%.anni $(OUT)/model.r%.annm $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $(OUT)/index.r$*.anni --model $(OUT)/model.r$*.annm --size-weight $(SIZE_WEIGHT) --gt $(OUT)/gt.annn \
	  --budget $(PAPER_BUDGETS) --label "MLP router, duplication rounds: $*" -o $@ $(QUERIES) > $(@:.tsv=.txt)
$(OUT)/paper.k%.tsv: $(OUT)/index.k%.anni $(OUT)/model.k%.annm $(OUT)/gt.annn $(QUERIES)
	ann-eval sweep -q --index $(OUT)/index.k$*.anni --model $(OUT)/model.k$*.annm --gt $(OUT)/gt.annn \
	  --threshold $(THRESHOLDS) --label "kernel router, threshold, duplication rounds: $*" -o $@ $(QUERIES) > $(@:.tsv=.txt)

PAPER_BASELINES = $(OUT)/paper.centroid.tsv $(OUT)/paper.spann.tsv $(OUT)/paper.spann-pruned.tsv
PAPER_CURVES = $(PAPER_BASELINES) $(foreach s,r k,$(foreach r,$(ROUND_NUMBERS),$(OUT)/paper.$(s)$(r).tsv))
PAPER_NPROBE_CURVES = $(OUT)/paper.centroid-nprobe.tsv $(OUT)/paper.spann-nprobe.tsv
# The fetch at recall@1 0.80, TARGET and 0.95, against each baseline.
$(OUT)/comparison.md $(OUT)/comparison.tsv &: $(PAPER_CURVES)
	ann-eval compare --target $(TARGET) --levels 0.8,0.95 $(addprefix --baseline ,$(PAPER_BASELINES)) -o $(OUT)/comparison.md $^
	ann-eval compare --target $(TARGET) --levels 0.8,0.95 $(addprefix --baseline ,$(PAPER_BASELINES)) --format tsv -o $(OUT)/comparison.tsv $^
$(OUT)/comparison-nprobe.md: $(PAPER_NPROBE_CURVES)
	ann-eval compare --target $(TARGET) -o $@ $^

# The results page: results.sh assembles the tables above and the settings it reads by name.
RESULTS ?= $(OUT)/results.md
DATASET ?= $(notdir $(BASE))
TRAIN_NAME ?= $(notdir $(TRAIN))
COMMAND ?= make -C examples paper
RESULTS_VARS = OUT DATASET TRAIN_NAME COMMAND K ROUNDS FRACTION EPOCHS SIZE_WEIGHT POINTS KEPOCHS KREPOCHS KMEMORY \
  REPLICAS EPSILON PRUNE TARGET PAPER_CURVES
paper-files: $(OUT)/comparison.md $(OUT)/comparison-nprobe.md $(OUT)/memory.md
	ann-eval plot -q -o $(RESULTS:.md=.svg) --title "recall@1 against vectors fetched per query, $(DATASET)" $(PAPER_CURVES)
	cp $(OUT)/memory.svg $(RESULTS:.md=-memory.svg)
	env $(foreach v,$(RESULTS_VARS),$(v)='$($(v))') PLOT=$(notdir $(RESULTS:.md=.svg)) ./results.sh > $(RESULTS).tmp
	mv $(RESULTS).tmp $(RESULTS)
	@echo; cat $(OUT)/comparison.md
	@echo; echo "results: $(abspath $(RESULTS))   plot: $(abspath $(RESULTS:.md=.svg))"

# The data sets. SIFT-DEB's training queries: the learn set and the query log, concatenated.
SIFTDEB = BASE=$(SHARED)/siftdeb/siftdeb_base.bvecs QUERIES=$(SHARED)/siftdeb/siftdeb_query.bvecs K=1024
out/siftdeb/train.bvecs out/paper-siftdeb/train.bvecs: $(SHARED)/siftdeb/siftdeb_learn.bvecs $(SHARED)/siftdeb/siftdeb_querylog.bvecs
	mkdir -p $(@D) && cat $^ > $@
# The paper's settings on SIFT-DEB, shared by paper and memory-siftdeb.
PAPER_SIFTDEB = $(SIFTDEB) OUT=out/paper-siftdeb TRAIN=out/paper-siftdeb/train.bvecs LEARN=$(SHARED)/siftdeb/siftdeb_learn.bvecs \
  EPOCHS=$(or $(PAPER_EPOCHS),4) LEARN_LABEL="learn alone" TRAIN_LABEL="learn + log" \
  PAPER_BUDGETS=1000,1500,2000,2500,3000,4000,5000,6000,7000,8000,10000,12000,15000,20000 \
  MEMORY_THRESHOLDS=3e-3,2e-3,1.5e-3,1e-3,7e-4,5e-4,3.5e-4,2.5e-4,1.8e-4,1.3e-4,1e-4,7e-5,5e-5,3.5e-5,2.5e-5,1.8e-5,1.3e-5,1e-5,7e-6,5e-6,3e-6,2e-6

PAPER ?= siftdeb
PAPER_OUT ?= out/paper-$(PAPER)
ifeq ($(PAPER),siftsmall)
paper:
	$(MAKE) -f paper.mk paper-files OUT=$(PAPER_OUT) EPOCHS=$(or $(PAPER_EPOCHS),10) TRAIN_LABEL=bigann10k \
	  MEMORIES="16 32 64" MEMORY_TRAINS=train RESULTS=$(PAPER_OUT)/results.md COMMAND="make -C examples paper PAPER=siftsmall" \
	  DATASET="siftsmall (TEXMEX SIFT10K, bundled)" TRAIN_NAME="bigann10k (10,000 SIFT1B base descriptors)"
else
paper: out/paper-siftdeb/train.bvecs
	$(MAKE) -f paper.mk paper-files $(PAPER_SIFTDEB) RESULTS=../docs/results.md \
	  DATASET="SIFT-DEB (710,181 base, 10,000 test queries)" \
	  TRAIN_NAME="siftdeb_learn + siftdeb_querylog (182,625 + 22,644 descriptors, concatenated)" \
	  PAPER_NPROBES=2,3,4,5,6,7,8,9,10,12,14,16,20 \
	  THRESHOLDS=3e-4,2e-4,1.5e-4,1e-4,7e-5,5e-5,4e-5,3.5e-5,3e-5,2.5e-5,2e-5,1.7e-5,1.5e-5,1.2e-5,1e-5,7e-6,5e-6,3e-6
endif
memory-siftdeb: out/paper-siftdeb/train.bvecs
	$(MAKE) -f paper.mk memory $(PAPER_SIFTDEB)
router-siftdeb: out/siftdeb/train.bvecs
	$(MAKE) -f paper.mk router $(SIFTDEB) OUT=out/siftdeb TRAIN=out/siftdeb/train.bvecs \
	  BUDGETS=3000,4000,5000,6000,6500,7000,7500,8000,9000,10000,12000 THRESHOLDS=1e-4,7e-5,5e-5,4e-5,3e-5,2.5e-5,2e-5,1.5e-5,1e-5
spann-siftdeb:
	$(MAKE) -f paper.mk spann $(SIFTDEB) OUT=out/siftdeb NPROBES=1,2,4,5,6,7,8,9,10,12,14,16,24,32
siftdeb: out/siftdeb/train.bvecs
	$(MAKE) demo $(SIFTDEB) OUT=out/siftdeb TRAIN=out/siftdeb/train.bvecs NPROBE=9 NPROBES=1,2,4,6,7,8,9,10,12,16,24,32,48,64
