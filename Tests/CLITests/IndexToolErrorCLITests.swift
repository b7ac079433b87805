import ANNKit
import Foundation
import Testing

/// Failures of ann-pack, ann-query, ann-eval, ann-train and ann-dup: the sysexits status, one
/// line `tool: error: ...`, nothing on stdout and nothing under out/ (see `expectFailure`).
@Suite struct IndexToolErrorCLITests {
    /// A quick index (few k-means iterations), training queries and their ground truth.
    struct Setup {
        var index: SiftIndex
        var gt: String
        var train: String
        var trainTruth: String
    }

    static func prepare(_ s: Scratch, model: Bool = false) throws -> Setup {
        let f = try s.siftIndex(iters: 3)
        let train = try s.sample("bigann10k_base.bvecs")
        let p = Setup(index: f, gt: try s.groundTruth(f.queries, k: 10), train: train,
                      trainTruth: try s.groundTruth(train, k: 1, name: "train-gt.annn"))
        if model {
            try s.setup("ann-train", ["--router", "residual", "--epochs", "1", "--hidden", "16", "--validation", "0", "--index", f.index,
                                      "--gt", p.trainTruth, "-o", s.path("m.annm"), train])
        }
        return p
    }

    /// Every tool that reads an index, with `index` in its place, writing under out/.
    static func indexReaders(_ p: Setup, index: String, queries: String? = nil, train: String? = nil) -> [(String, [String])] {
        let q = queries ?? p.index.queries, t = train ?? p.train
        return [
            ("ann-query", ["--index", index, "--nprobe", "16", "--stats", "out/s.tsv", "-o", "out/r.annn", q]),
            ("ann-eval", ["sweep", "--index", index, "--gt", p.gt, "--nprobe", "1,16", "-o", "out/c.tsv", q]),
            ("ann-train", ["--router", "residual", "--epochs", "1", "--hidden", "8", "--index", index, "--gt", p.trainTruth,
                           "-o", "out/m.annm", t]),
            ("ann-dup", ["--model", "m.annm", "--index", index, "--gt", p.trainTruth,
                         "-o", "out/a.anna", t]),
        ]
    }

    /// ann-query and ann-eval sweep read clusters; both name the damaged one.
    @Test func corruptedClusterFrame() throws {
        let s = try Scratch()
        let p = try Self.prepare(s)
        try damageCluster(5, of: p.index.index, into: s.path("bad.anni"))
        for (tool, args) in Self.indexReaders(p, index: "bad.anni").prefix(2) {
            try expectFailure(try s.run(tool, args), tool: tool, status: 65, mentioning: ["bad.anni: cluster 5", "checksum mismatch"], scratch: s)
        }
        // A query that does not need cluster 5 is not affected.
        let idx = try PackedIndex(path: s.path("bad.anni"))
        #expect(idx.clusterCount == 16)
    }

    @Test func truncatedIndex() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        let bytes = try readBytes(p.index.index)
        try s.write(Array(bytes.prefix(bytes.count - 100)), to: "cut.anni")
        try s.write(Array(bytes.prefix(20)), to: "head.anni")
        for (tool, args) in Self.indexReaders(p, index: "cut.anni") + Self.indexReaders(p, index: "head.anni") {
            try expectFailure(try s.run(tool, args), tool: tool, status: 65, mentioning: ["truncated"], scratch: s)
        }
    }

    @Test func missingIndex() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        for (tool, args) in Self.indexReaders(p, index: "nosuch.anni") {
            try expectFailure(try s.run(tool, args), tool: tool, status: 66, mentioning: ["nosuch.anni"], scratch: s)
        }
    }

    @Test func notAnIndex() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        for (tool, args) in Self.indexReaders(p, index: p.gt) {
            try expectFailure(try s.run(tool, args), tool: tool, status: 65, mentioning: ["gt.annn", "not a packed index"], scratch: s)
        }
    }

    @Test func queriesOfAnotherDimension() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        try s.write(ErrorCLITests.query, to: "q8.fvecs")
        for (tool, args) in Self.indexReaders(p, index: p.index.index, queries: "q8.fvecs", train: "q8.fvecs") {
            try expectFailure(try s.run(tool, args), tool: tool, status: 65, mentioning: ["q8.fvecs", "dimension 8", "128"], scratch: s)
        }
    }

    @Test func metricOtherThanTheIndexOrCentroids() throws {
        let s = try Scratch(), p = try Self.prepare(s)
        try expectFailure(try s.run("ann-query", ["--index", p.index.index, "--metric", "ip", "-o", s.output("r.annn"), p.index.queries]),
                          tool: "ann-query", status: 64, mentioning: ["i.anni was made for --metric l2, not ip"], scratch: s)
        try s.setup("ann-kmeans", ["-k", "16", "--iters", "2", "--metric", "cos", "--assignments", s.path("cos.anna"), "-o", s.path("cos.annv"), p.index.base])
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", "cos.annv", "--assignments", "cos.anna",
                                                 "-o", s.output("i.anni"), p.index.base]),
                          tool: "ann-pack", status: 64, mentioning: ["cos.annv was made for --metric cos, not l2"], scratch: s)
        // A ground truth for another metric than the index's: two files at odds, bad data.
        let ipTruth = try s.groundTruth(p.index.queries, k: 10, metric: .ip, name: "gt-ip.annn")
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", p.index.index, "--gt", ipTruth, "-o", s.output("c.tsv"), p.index.queries]),
                          tool: "ann-eval", status: 65, mentioning: ["gt-ip.annn", "ip"], scratch: s)
    }

    @Test func outputOnAFullDevice() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        let f = p.index
        let runs: [(String, [String])] = [
            ("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", f.assignments, "-o", "/dev/full", f.base]),
            ("ann-query", ["--index", f.index, "-o", "/dev/full", f.queries]),
            ("ann-query", ["--index", f.index, "--stats", "/dev/full", "-o", "out/r.annn", f.queries]),
            ("ann-eval", ["sweep", "--index", f.index, "--gt", p.gt, "--nprobe", "1,2", "-o", "/dev/full", f.queries]),
            ("ann-train", ["--router", "residual", "--epochs", "1", "--hidden", "8", "--index", f.index, "--gt", p.trainTruth,
                           "-o", "/dev/full", p.train]),
            ("ann-dup", ["--model", "m.annm", "--index", f.index, "--gt", p.trainTruth, "-o", "/dev/full", p.train]),
        ]
        for (tool, args) in runs {
            try expectFailure(try s.run(tool, args), tool: tool, status: 74, mentioning: ["/dev/full"], scratch: s)
        }
    }

    /// ann-eval score writes its report on stdout: a write that fails there is an error too
    /// (jq's "writing output failed"), not a silent success.
    @Test func scoreReportOnAFullDevice() throws {
        let s = try Scratch(), p = try Self.prepare(s)
        try s.setup("ann-query", ["--index", p.index.index, "-o", s.path("r.annn"), p.index.queries])
        let r = try s.run("ann-eval", ["score", "--gt", p.gt, "r.annn"], stdoutTo: "/dev/full")
        #expect(r.status == 74, "ann-eval score > /dev/full exited \(r.status): \(r.stderr)")
        #expect(r.stderr.hasPrefix("ann-eval: error: "), "\(r.stderr)")
    }

    @Test func assignmentForAnotherK() throws {
        let s = try Scratch(), p = try Self.prepare(s, model: true)
        let f = p.index
        try s.setup("ann-kmeans", ["-k", "8", "--iters", "2", "--assignments", s.path("a8.anna"), "-o", s.path("c8.fvecs"), f.base])
        let words = ["a8.anna", "assignment is for 8 clusters, not 16"]
        let runs: [(String, [String])] = [
            ("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "a8.anna", "-o", "out/i.anni", f.base]),
        ]
        // ann-train and ann-dup take no assignment: membership comes from the index
        // (RouterCLITests.assignmentsAreRefused).
        for (tool, args) in runs {
            try expectFailure(try s.run(tool, args), tool: tool, status: 65, mentioning: words, scratch: s)
        }
        // A foreign assignment does not record K, but names a cluster beyond the index's 16.
        try s.write(Encode.le(Int32(1)) + Encode.le(Int32(20)), to: "far.ivecs")
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "far.ivecs", "-o", "out/i.anni", f.base]),
                          tool: "ann-pack", status: 65, mentioning: ["far.ivecs", "cluster 20 is not below K = 16"], scratch: s)
        // Centroids of 8 for an assignment of 16.
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", "c8.fvecs", "--assignments", f.assignments, "-o", "out/i.anni", f.base]),
                          tool: "ann-pack", status: 65, mentioning: ["assignment is for 16 clusters, not 8"], scratch: s)
    }

    /// The assignment must cover the base exactly.
    @Test func assignmentThatDoesNotMatchTheBase() throws {
        let s = try Scratch(), p = try Self.prepare(s)
        let f = p.index
        let a = try Assignment.load(f.assignments)
        func ivecs(_ vectors: Range<Int>) -> [UInt8] { vectors.flatMap { Encode.le(Int32(1)) + Encode.le(Int32(a.clusters[$0])) } }
        try s.write(ivecs(0..<9000), to: "short.ivecs")
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "short.ivecs", "-o", "out/i.anni", f.base]),
                          tool: "ann-pack", status: 65, mentioning: ["short.ivecs: base vector 9000 is in no cluster"], scratch: s)
        try s.write(ivecs(0..<10_000) + Encode.le(Int32(1)) + Encode.le(Int32(0)), to: "long.ivecs")
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", "long.ivecs", "-o", "out/i.anni", f.base]),
                          tool: "ann-pack", status: 65, mentioning: ["long.ivecs: assigns vector 10000, but the base holds only 10000 vectors"], scratch: s)
        try s.write(ErrorCLITests.query, to: "q8.fvecs")
        try expectFailure(try s.run("ann-pack", ["--metric", "l2", "--centroids", f.centroids, "--assignments", f.assignments, "-o", "out/i.anni", "q8.fvecs"]),
                          tool: "ann-pack", status: 65, mentioning: ["base dimension 8 does not match the centroids' 128"], scratch: s)
    }

    @Test func scoreInputsThatDoNotMatch() throws {
        let s = try Scratch(), p = try Self.prepare(s)
        try s.setup("ann-query", ["--index", p.index.index, "--stats", s.path("s.tsv"), "-o", s.path("r.annn"), p.index.queries])
        // Results for 100 queries, ground truth for 10,000.
        try expectFailure(try s.run("ann-eval", ["score", "--gt", p.trainTruth, "r.annn"]), tool: "ann-eval", status: 65,
                          mentioning: ["100 queries, the ground truth has 10000"], scratch: s)
        // A stats table of another length, and one that is not a stats table.
        let table = String(decoding: try readBytes(s.path("s.tsv")), as: UTF8.self).split(separator: "\n").prefix(11).joined(separator: "\n") + "\n"
        try s.write(Array(table.utf8), to: "s10.tsv")
        try expectFailure(try s.run("ann-eval", ["score", "--gt", p.gt, "--stats", "s10.tsv", "r.annn"]), tool: "ann-eval", status: 65,
                          mentioning: ["s10.tsv", "10 queries"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["score", "--gt", p.gt, "--stats", p.gt, "r.annn"]), tool: "ann-eval", status: 65, scratch: s)
        try expectFailure(try s.run("ann-eval", ["score", "--gt", p.gt, "nosuch.annn"]), tool: "ann-eval", status: 66,
                          mentioning: ["nosuch.annn"], scratch: s)
        // Queries that are not those of the ground truth.
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", p.index.index, "--gt", p.trainTruth, "-o", "out/c.tsv", p.index.queries]),
                          tool: "ann-eval", status: 65, mentioning: ["10000 queries of ground truth, 100 queries"], scratch: s)
    }

    @Test func plotInputsThatAreNotCurves() throws {
        let s = try Scratch()
        try s.write(Array("query\tclusters\n0\t1\n".utf8), to: "s.tsv")
        try expectFailure(try s.run("ann-eval", ["plot", "-o", s.output("c.svg"), "s.tsv"]), tool: "ann-eval", status: 65,
                          mentioning: ["s.tsv", "not a recall curve"], scratch: s)
        try expectFailure(try s.run("ann-eval", ["plot", "-o", s.output("c.svg"), "nosuch.tsv"]), tool: "ann-eval", status: 66,
                          mentioning: ["nosuch.tsv"], scratch: s)
    }

    /// Two outputs under one name would leave one of them behind as the other.
    @Test func statsAndResultsUnderOneName() throws {
        let s = try Scratch(), p = try Self.prepare(s)
        let r = try s.run("ann-query", ["--index", p.index.index, "--stats", s.output("x"), "-o", s.output("x"), p.index.queries])
        try expectFailure(r, tool: "ann-query", status: 64, mentioning: ["--stats"], scratch: s)
    }

    @Test(arguments: [
        ("ann-pack", ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--level", "0", "-o", "out/i.anni", "b.fvecs"]),
        ("ann-pack", ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "-o", "out/i.anni.zst", "b.fvecs"]),
        ("ann-query", ["--index", "i.anni", "--nprobe", "0", "-o", "out/r.annn", "q.fvecs"]),
        ("ann-query", ["--index", "i.anni", "--nprobe", "2", "--budget", "10", "-o", "out/r.annn", "q.fvecs"]),
        ("ann-eval", ["plot", "-o", "out/x.pdf", "c.tsv"]),
        ("ann-eval", ["sweep", "--index", "i.anni", "--gt", "gt.annn", "--nprobe", "0", "-o", "out/c.tsv", "q.fvecs"]),
        ("ann-eval", ["score", "--bogus"]),
        ("ann-train", ["--gt", "g", "--index", "i", "--validation", "0.7", "-o", "out/m.annm", "q.fvecs"]),
        ("ann-dup", ["--model", "m", "--index", "i", "--gt", "g", "--fraction", "2", "-o", "out/a.anna", "q.fvecs"]),
        ("ann-train", ["--gt", "g", "--assignments", "a", "--index", "i", "-o", "out/m.annm", "q.fvecs"]),
        ("ann-dup", ["--model", "m", "--index", "i", "--gt", "g", "--assignments", "a", "-o", "out/a.anna", "q.fvecs"]),
    ])
    func usageErrors(_ tool: String, _ arguments: [String]) throws {
        let s = try Scratch()
        try expectFailure(try s.run(tool, arguments), tool: tool, status: 64, mentioning: ["(see --help)"], scratch: s)
    }
}
