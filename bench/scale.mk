# The ground truth and the query run of bench/scale in 4 slices, merged (make -j2 -f bench/scale.mk).
N     := 4
PARTS := 0 1 2 3
.PHONY: gt query
gt: $(W)/gt-merged.annn
$(W)/gt-merged.annn: $(foreach i,$(PARTS),$(W)/gt-part.$(i))
	$(BIN)/ann-groundtruth -q --merge -o $@ $^
$(W)/gt-part.%:
	$(BIN)/ann-groundtruth -q --base $(BASE) --shard $*/$(N) -k 10 -o $@ $(Q)
query: $(W)/r-merged.annn
$(W)/r-merged.annn: $(foreach i,$(PARTS),$(W)/r-part.$(i))
	$(BIN)/ann-query -q --merge -o $@ $^
$(W)/r-part.%:
	$(BIN)/ann-query -q --index $(INDEX) --nprobe 16 --shard $*/$(N) -o $@ $(Q)

# The build in 4 slices: each slice assigned and packed, then merged.
.PHONY: build
build: $(W)/i-merged.anni
$(W)/i-merged.anni: $(foreach i,$(PARTS),$(W)/i-part.$(i))
	$(BIN)/ann-pack -q --merge --base $(BASE) -o $@ $^
$(W)/i-part.%:
	$(BIN)/ann-kmeans -q --centroids $(C) --shard $*/$(N) --assignments $(W)/a-part.$*.anna $(BASE)
	$(BIN)/ann-pack -q --centroids $(C) --assignments $(W)/a-part.$*.anna --shard $*/$(N) -o $@ $(BASE)
