import ANNKit
import Foundation
import Testing

/// ann-train and ann-dup on siftsmall in 16 clusters, with the 10,000 BIGANN vectors as
/// training queries, as the examples Makefile does (with small networks and few epochs).
@Suite struct RouterCLITests {
    struct Setup {
        var index: SiftIndex
        var train: String
        /// The nearest siftsmall vector of every training query.
        var trainTruth: String
    }

    static func prepare(_ s: Scratch) throws -> Setup {
        let f = try s.siftIndex()
        let train = try s.sample("bigann10k_base.bvecs")
        return Setup(index: f, train: train, trainTruth: try s.groundTruth(train, k: 1, name: "train-gt.annn"))
    }

    static func trainArguments(_ p: Setup, seed: Int = 1, output: String) -> [String] {
        ["--router", "residual", "--epochs", "2", "--hidden", "64", "--seed", "\(seed)", "--index", p.index.index,
         "--gt", p.trainTruth, "-o", output, p.train]
    }

    /// Success, where the only message allowed is the documented warning that training did
    /// not beat centroid routing on the held-out queries.
    static func expectTrained(_ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.exited && r.status == 0, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.isEmpty || (r.stderr.hasPrefix("ann-train: warning: ") && r.stderr.filter { $0 == "\n" }.count == 1),
                "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func trainedModelRoutesQueries() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        Self.expectTrained(try s.run("ann-train", Self.trainArguments(p, output: s.output("m.annm"))))
        let idx = try PackedIndex(path: p.index.index)
        let model = try RouterModel.load(s.output("m.annm"), for: idx)
        #expect(model.hidden1 == 64 && model.hidden2 == 64 && model.clusterCount == 16 && model.dim == 128)
        #expect(model.fingerprint == idx.fingerprint && model.metric == .l2)
        #expect(model.centroidWeight > 0, "residual")

        let truth = try NeighborList.load(try s.groundTruth(p.index.queries, k: 10))
        // Every cluster fetched: exact, whatever the router.
        expectSuccess(try s.run("ann-query", ["--index", p.index.index, "--model", "out/m.annm", "--nprobe", "16", "-o", s.output("all.annn"),
                                              p.index.queries]))
        #expect(try NeighborList.load(s.output("all.annn")).ids == truth.ids)
        expectSuccess(try s.run("ann-query", ["--index", p.index.index, "--model", "out/m.annm", "--nprobe", "2", "--size-weight", "1",
                                              "--stats", s.output("s.tsv"), "-o", s.output("two.annn"), p.index.queries]))
        #expect(recount(try NeighborList.load(s.output("two.annn")), truth).at1 > 0.5)
        #expect(try StatsFile(s.output("s.tsv")).column("clusters").allSatisfy { $0 == 2 })
        expectSuccess(try s.run("ann-eval", ["sweep", "-q", "--index", p.index.index, "--model", "out/m.annm", "--gt", s.path("gt.annn"),
                                             "--budget", "500,2000", "-o", s.output("c.tsv"), p.index.queries]))
        #expect(try RecallCurve.parse(String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self), source: "c.tsv").points.count == 2)
    }

    @Test func sameSeedGivesTheSameModel() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        for (name, seed) in [("a", 3), ("b", 3), ("c", 4)] {
            Self.expectTrained(try s.run("ann-train", Self.trainArguments(p, seed: seed, output: s.output("\(name).annm"))))
        }
        #expect(try readBytes(s.output("a.annm")) == readBytes(s.output("b.annm")))
        #expect(try readBytes(s.output("a.annm")) != readBytes(s.output("c.annm")))
    }

    /// Another k-means run of the same shape (16 clusters, 128-d, l2) is another clustering:
    /// every tool that takes a model refuses it.
    @Test func modelForAnotherIndexIsRefused() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        try s.setup("ann-train", Self.trainArguments(p, output: s.path("m.annm")) + ["--validation", "0"])
        let other = try s.siftIndex(seed: 2, name: "other")
        let words = ["m.annm", "another clustering", "other.anni"]
        try expectFailure(try s.run("ann-query", ["--index", other.index, "--model", "m.annm", "-o", s.output("r.annn"), other.queries]),
                          tool: "ann-query", status: 65, mentioning: words, scratch: s)
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", other.index, "--model", "m.annm", "--gt", "train-gt.annn",
                                                 "-o", s.output("c.tsv"), p.train]),
                          tool: "ann-eval", status: 65, mentioning: words, scratch: s)
        try expectFailure(try s.run("ann-dup", ["--model", "m.annm", "--index", other.index, "--gt", p.trainTruth,
                                                "-o", s.output("a.anna"), p.train]),
                          tool: "ann-dup", status: 65, mentioning: words, scratch: s)
        try expectFailure(try s.run("ann-train", ["--init", "m.annm", "--epochs", "1", "--index", other.index,
                                                  "--gt", p.trainTruth, "-o", s.output("m2.annm"), p.train]),
                          tool: "ann-train", status: 65, mentioning: words, scratch: s)
    }

    /// ann-dup writes the index's membership with copies added: sorted by vector, each
    /// vector's clusters in the index first (ascending), copies after; the repacked index keeps
    /// the clustering, so the model stays valid and training continues.
    @Test func dupExtendsTheAssignment() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        try s.setup("ann-train", Self.trainArguments(p, output: s.path("m.annm")) + ["--validation", "0"])
        let dup = ["--model", "m.annm", "--index", p.index.index, "--gt", p.trainTruth,
                   "--fraction", "0.5", p.train]
        let r = try s.run("ann-dup", dup + ["-o", s.output("a2.anna")])
        expectSuccess(r)
        #expect(r.stdout.isEmpty)
        let before = try Assignment.load(p.index.assignments), after = try Assignment.load(s.output("a2.anna"))
        #expect(after.clusterCount == 16)
        #expect(after.pairCount > before.pairCount)
        #expect(zip(after.vectors, after.vectors.dropFirst()).allSatisfy { $0 <= $1 })
        let old = before.clustersByVector(), new = after.clustersByVector()
        #expect(new.count == 10_000)
        var changed = 0
        for v in 0..<10_000 {
            #expect(new[v].first == old[v].first, "vector \(v): home cluster")
            #expect(Set(new[v]).count == new[v].count, "vector \(v): \(new[v])")
            if new[v].count > 1 { changed += 1 }
        }
        #expect(changed > 0)
        // The same assignment as .ivecs.
        expectSuccess(try s.run("ann-dup", dup + ["-o", s.output("a2.ivecs")]))
        let ivecs = try Assignment.load(s.output("a2.ivecs"), clusterCount: 16)
        #expect(ivecs.vectors == after.vectors && ivecs.clusters == after.clusters)

        try s.setup("ann-pack", ["--metric", "l2", "--centroids", p.index.centroids, "--assignments", "out/a2.anna", "-o", s.path("r1.anni"), p.index.base])
        let idx = try PackedIndex(path: s.path("r1.anni"))
        #expect(idx.vectorCount == 10_000 && idx.entries.reduce(0) { $0 + $1.vectors } == after.pairCount)
        #expect(idx.fingerprint == (try PackedIndex(path: p.index.index)).fingerprint)
        expectSuccess(try s.run("ann-query", ["--index", "r1.anni", "--model", "m.annm", "--nprobe", "2", "-o", s.output("r.annn"), p.index.queries]))
        Self.expectTrained(try s.run("ann-train", ["--init", "m.annm", "--epochs", "1", "--index", "r1.anni",
                                                   "--gt", p.trainTruth, "-o", s.output("m1.annm"), p.train]))
        #expect(try RouterModel.load(s.output("m1.annm"), for: idx).hidden1 == 64)
    }

    /// The index is the only source of membership: ann-train and ann-dup refuse an assignment
    /// beside it, before reading anything (even one of another clustering, which they used to
    /// combine with the index), in one line that says where membership comes from.
    @Test func assignmentsAreRefused() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        try s.setup("ann-train", Self.trainArguments(p, output: s.path("m.annm")) + ["--validation", "0"])
        let other = try s.siftIndex(k: 16, seed: 2, name: "other")
        let words = ["--assignments is no longer taken", "membership comes from the index"]
        for a in [p.index.assignments, other.assignments] {
            try expectFailure(try s.run("ann-train", Self.trainArguments(p, output: s.output("m2.annm")) + ["--assignments", a]),
                              tool: "ann-train", status: 64, mentioning: words, scratch: s)
            try expectFailure(try s.run("ann-dup", ["--model", "m.annm", "--index", p.index.index, "--assignments", a, "--gt", p.trainTruth,
                                                    "-o", s.output("a2.anna"), p.train]),
                              tool: "ann-dup", status: 64, mentioning: words, scratch: s)
        }
        for tool in ["ann-train", "ann-dup"] {
            let help = try s.run(tool, ["--help"])
            let text = String(decoding: help.stdout, as: UTF8.self)
            #expect(help.status == 0 && text.contains("--index") && !text.contains("--assignments"), "\(tool) --help lists --assignments")
        }
    }

    /// Two rounds, ann-dup -> ann-pack -> ann-train --init, each from the index alone: what
    /// ann-dup writes is the membership of the index it read plus the copies (the index of a
    /// round holds exactly the assignment it was packed from), in every output form.
    @Test func duplicationRoundsFromTheIndexAlone() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        try s.setup("ann-train", Self.trainArguments(p, output: s.path("m0.annm")) + ["--validation", "0"])
        func pairs(_ a: Assignment) -> Set<[UInt32]> { Set(zip(a.vectors, a.clusters).map { [$0, $1] }) }
        var index = p.index.index, model = "m0.annm"
        var held = pairs(try Assignment.load(p.index.assignments))
        for round in 1...2 {
            let dup = ["--model", model, "--index", index, "--gt", p.trainTruth, "--fraction", "0.5", p.train]
            expectSuccess(try s.run("ann-dup", dup + ["-o", s.output("a\(round).anna")]))
            let next = try Assignment.load(s.output("a\(round).anna"))
            // What the index held, plus copies; each vector's clusters of the index ascending first.
            #expect(held.isSubset(of: pairs(next)) && pairs(next).count > held.count, "round \(round)")
            let lists = next.clustersByVector()
            var before = [[UInt32]](repeating: [], count: lists.count)
            for pair in held { before[Int(pair[0])].append(pair[1]) }
            for v in 0..<lists.count {
                #expect(Array(lists[v].prefix(before[v].count)) == before[v].sorted(), "round \(round), vector \(v): \(lists[v])")
                #expect(Set(lists[v]).count == lists[v].count, "round \(round), vector \(v): \(lists[v])")
            }
            for form in ["ivecs", "ibin"] {
                expectSuccess(try s.run("ann-dup", dup + ["-o", s.output("a\(round).\(form)")]))
                let foreign = try Assignment.load(s.output("a\(round).\(form)"), clusterCount: 16)
                #expect(foreign.vectors == next.vectors && foreign.clusters == next.clusters, "round \(round), .\(form)")
            }
            try s.setup("ann-pack", ["--metric", "l2", "--centroids", p.index.centroids, "--assignments", "out/a\(round).anna",
                                     "-o", s.path("r\(round).anni"), p.index.base])
            index = s.path("r\(round).anni")
            held = pairs(try Assignment(index: try PackedIndex(path: index)))
            #expect(held == pairs(next), "round \(round): the index holds what it was packed from")
            Self.expectTrained(try s.run("ann-train", ["--init", model, "--epochs", "1", "--validation", "0", "--index", index,
                                                       "--gt", p.trainTruth, "-o", s.output("m\(round).annm"), p.train]))
            try FileManager.default.moveItem(atPath: s.output("m\(round).annm"), toPath: s.path("m\(round).annm"))
            model = "m\(round).annm"
        }
        #expect(try RouterModel.load(s.path(model), for: try PackedIndex(path: index)).hidden1 == 64)
    }

    /// The kernel router end to end: trained, fetched by --threshold (fewer vectors for a
    /// stricter threshold, every cluster below the smallest p/size), swept, duplicated with,
    /// and continued from; --router must agree with --init's kind.
    @Test func kernelRouterWithThreshold() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        let train = ["--router", "kernel", "--points", "8", "--epochs", "2", "--index", p.index.index,
                     "--gt", p.trainTruth]
        Self.expectTrained(try s.run("ann-train", train + ["-o", s.output("k.annm"), p.train]))
        let idx = try PackedIndex(path: p.index.index)
        let model = try #require(try ModelFile(path: s.output("k.annm"), for: idx).router() as? KernelRouter)
        #expect(model.slots == 8 && model.clusterCount == 16 && model.weight > 0)
        // Same seed, same bytes.
        Self.expectTrained(try s.run("ann-train", train + ["-o", s.output("k2.annm"), p.train]))
        #expect(try readBytes(s.output("k.annm")) == readBytes(s.output("k2.annm")))

        let truth = try NeighborList.load(try s.groundTruth(p.index.queries, k: 10))
        func query(_ threshold: String, _ name: String) throws -> ((at1: Double, at10: Double), [Int]) {
            expectSuccess(try s.run("ann-query", ["--index", p.index.index, "--model", "out/k.annm", "--threshold", threshold,
                                                  "--stats", s.output("\(name).tsv"), "-o", s.output("\(name).annn"), p.index.queries]))
            return (recount(try NeighborList.load(s.output("\(name).annn")), truth), try StatsFile(s.output("\(name).tsv")).column("vectors"))
        }
        let (strict, strictVectors) = try query("1", "strict")
        #expect(try StatsFile(s.output("strict.tsv")).column("clusters").allSatisfy { $0 == 1 })
        let (loose, looseVectors) = try query("1e-5", "loose")
        #expect(looseVectors.reduce(0, +) > strictVectors.reduce(0, +))
        #expect(loose.at1 > strict.at1 && loose.at1 > 0.9, "\(strict.at1) -> \(loose.at1)")
        let (_, allVectors) = try query("1e-30", "all")
        #expect(allVectors.allSatisfy { $0 == 10_000 })
        #expect(try NeighborList.load(s.output("all.annn")).ids == truth.ids)

        expectSuccess(try s.run("ann-eval", ["sweep", "-q", "--index", p.index.index, "--model", "out/k.annm", "--gt", s.path("gt.annn"),
                                             "--threshold", "1e-3,1e-4", "-o", s.output("c.tsv"), p.index.queries]))
        let curve = try RecallCurve.parse(String(decoding: try readBytes(s.output("c.tsv")), as: UTF8.self), source: "c.tsv")
        #expect(curve.points.map(\.setting) == ["threshold=0.001", "threshold=0.0001"])

        expectSuccess(try s.run("ann-dup", ["--model", "out/k.annm", "--index", p.index.index, "--gt", p.trainTruth,
                                            "-o", s.output("a2.ivecs"), p.train]))
        #expect(try Assignment.load(s.output("a2.ivecs"), clusterCount: 16).pairCount > 10_000)
        Self.expectTrained(try s.run("ann-train", ["--init", "out/k.annm", "--epochs", "1", "--index", p.index.index,
                                                   "--gt", p.trainTruth, "-o", s.output("k3.annm"), p.train]))
        #expect(try ModelFile(path: s.output("k3.annm"), for: idx).architecture == .kernel)
        // Refusals leave nothing in out/: the model moves next to the inputs first.
        try FileManager.default.moveItem(atPath: s.output("k.annm"), toPath: s.path("k.annm"))
        for f in try s.outputs() { try FileManager.default.removeItem(atPath: s.output(f)) }
        try expectFailure(try s.run("ann-train", ["--init", "k.annm", "--router", "mlp", "--index", p.index.index,
                                                  "--gt", p.trainTruth, "-o", s.output("k4.annm"), p.train]),
                          tool: "ann-train", status: 64, mentioning: ["--router mlp", "kernel"], scratch: s)
        try expectFailure(try s.run("ann-query", ["--index", p.index.index, "--threshold", "1e-4", "-o", s.output("r.annn"), p.index.queries]),
                          tool: "ann-query", status: 64, mentioning: ["--threshold needs --model"], scratch: s)
    }

    /// The default router, the PQ router, sized by --memory: the footprint it records fits the
    /// budget and is what -v reports; stricter thresholds fetch less; every cluster is exact;
    /// the same seed gives the same bytes; a budget too small for any code is refused before
    /// anything is written.
    @Test func pqRouterUnderAMemoryBudget() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        let common = ["--epochs", "3", "--index", p.index.index, "--gt", p.trainTruth]
        try expectFailure(try s.run("ann-train", common + ["--rotation", "opq", "-o", s.output("r.annm"), p.train]),
                          tool: "ann-train", status: 64, mentioning: ["too small for a PQ router"], scratch: s)
        Self.expectTrained(try s.run("ann-train", common + ["-o", s.output("pq.annm"), p.train]))
        let idx = try PackedIndex(path: p.index.index)
        let file = try ModelFile(path: s.output("pq.annm"), for: idx)
        let model = try #require(try file.router() as? PQRouter)
        // 16 bytes per base vector of 10,000: 160,000 bytes, of which the codebooks take 131,072.
        #expect(file.architecture == .pq && model.calibration == .learned && file.footprint <= 160_000)
        #expect(model.quantizer.m >= 2 && file.footprint + 10_000 > 160_000, "the largest code that fits: \(model.quantizer.m)")
        Self.expectTrained(try s.run("ann-train", common + ["-o", s.output("pq2.annm"), p.train]))
        #expect(try readBytes(s.output("pq.annm")) == readBytes(s.output("pq2.annm")))
        // A rotation (128² floats, 64 KB) would take 40% of this budget: not by default, and
        // refused when asked for (above); at 1 MB it is the default and fits.
        #expect(!model.quantizer.rotated)
        Self.expectTrained(try s.run("ann-train", common + ["--memory", "1M", "-o", s.output("big.annm"), p.train]))
        let big = try #require(try ModelFile(path: s.output("big.annm"), for: idx).router() as? PQRouter)
        #expect(big.quantizer.rotated && big.footprint <= 1 << 20 && big.quantizer.m > model.quantizer.m)

        let truth = try NeighborList.load(try s.groundTruth(p.index.queries, k: 10))
        func query(_ threshold: String, _ name: String) throws -> (at1: Double, vectors: Int, stderr: String) {
            let r = try s.run("ann-query", ["-v", "--index", p.index.index, "--model", "out/pq.annm", "--threshold", threshold,
                                            "--stats", s.output("\(name).tsv"), "-o", s.output("\(name).annn"), p.index.queries])
            #expect(r.exited && r.status == 0, "\(r.stderr)")
            return (recount(try NeighborList.load(s.output("\(name).annn")), truth).at1,
                    try StatsFile(s.output("\(name).tsv")).column("vectors").reduce(0, +), r.stderr)
        }
        let strict = try query("1", "strict"), loose = try query("1e-6", "loose")
        #expect(loose.vectors > strict.vectors && loose.at1 > strict.at1 && loose.at1 >= 0.95, "\(strict.at1) -> \(loose.at1)")
        let mb = String(format: "%.2f", Double(file.footprint / 10_000) / 100)
        #expect(strict.stderr.contains("ann-query: router memory: \(mb) MB, \(String(format: "%.2f", Double(file.footprint) / 10_000)) B per base vector"),
                "\(strict.stderr)")
        expectSuccess(try s.run("ann-query", ["--index", p.index.index, "--model", "out/pq.annm", "--nprobe", "16",
                                              "-o", s.output("all.annn"), p.index.queries]))
        #expect(try NeighborList.load(s.output("all.annn")).ids == truth.ids)

        // The baseline calibration, sized the same way, and the sweep reporting the footprint.
        Self.expectTrained(try s.run("ann-train", common + ["--calibration", "temperature", "--memory", "200K",
                                                            "-o", s.output("t.annm"), p.train]))
        let t = try #require(try ModelFile(path: s.output("t.annm"), for: idx).router() as? PQRouter)
        #expect(t.calibration == .temperature && t.temperature > 0 && t.footprint <= 200 << 10 && t.quantizer.m > model.quantizer.m)
        let sweep = try s.run("ann-eval", ["sweep", "--index", p.index.index, "--model", "out/t.annm", "--gt", s.path("gt.annn"),
                                           "--threshold", "1e-3,1e-5", "-o", s.output("c.tsv"), p.index.queries])
        let summary = String(decoding: sweep.stdout, as: UTF8.self)
        #expect(sweep.status == 0 && summary.contains("router memory: ") && summary.contains("B per base vector"), "\(summary)")

        for f in try s.outputs() { try FileManager.default.removeItem(atPath: s.output(f)) }
        try expectFailure(try s.run("ann-train", common + ["--memory", "1B/vector", "-o", s.output("x.annm"), p.train]),
                          tool: "ann-train", status: 64, mentioning: ["1 B per base vector", "too small for a PQ router"], scratch: s)
        try expectFailure(try s.run("ann-train", common + ["--router", "mlp", "--hidden", "512", "-o", s.output("x.annm"), p.train]),
                          tool: "ann-train", status: 64, mentioning: ["an MLP of width 512", "over the budget of 16 B per base vector"], scratch: s)
    }
}
