import ANNKit
import Foundation
import Testing

/// Finite vectors whose distances would overflow float32 are refused by every tool that reads
/// them, in one line naming the record; hostile header counts and dimensions and oversized
/// options are refused in one line without the allocation they asked for (peak RSS of the
/// tool measured with wait4).
@Suite struct BoundsCLITests {
    static let peakLimit = 400 << 20
    static let hugeMessage = "record 17: squared norm 5.1e+38 is too large: distances would overflow float32"

    func expectBounded(_ m: (result: RunResult, peakBytes: Int), sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(m.peakBytes > 0 && m.peakBytes < Self.peakLimit, "peak RSS \(m.peakBytes >> 20) MiB", sourceLocation: sourceLocation)
    }

    /// siftsmall's first `count` vectors with record 17's components all 2e18 (squared norm
    /// 5.1e+38), as .fvecs.
    func hugeVectors(_ s: Scratch, from name: String, count: Int, as file: String) throws -> String {
        let v = try SampleData.vectors(name)
        var values = Array(v.values.prefix(count * v.dim))
        for j in 0..<v.dim { values[17 * v.dim + j] = 2e18 }
        try s.write(Encode.fvecs(values, dim: v.dim), to: file)
        return s.path(file)
    }

    @Test func kmeansRefusesAVectorWhoseDistancesWouldOverflow() throws {
        let s = try Scratch()
        let huge = try hugeVectors(s, from: "siftsmall_base.fvecs", count: 200, as: "huge.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["-k", "4", "-o", s.output("c.fvecs"), "--assignments", s.output("a.anna"), huge]),
                          tool: "ann-kmeans", status: 65, mentioning: [Self.hugeMessage, "huge.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-kmeans", ["-k", "4", "--sample", "100", "-o", s.output("c.fvecs"), "--assignments", s.output("a.anna"), huge]),
                          tool: "ann-kmeans", status: 65, mentioning: [Self.hugeMessage], scratch: s)
        // Given centroids: the huge vector is refused whether plainly assigned or replicated,
        // and huge centroids are refused as well.
        let base = try s.sample("siftsmall_base.fvecs")
        try s.setup("ann-kmeans", ["-k", "4", "--iters", "2", "-o", s.path("c.fvecs"), base])
        for extra in [[], ["--replicate"]] {
            try expectFailure(try s.run("ann-kmeans", ["--centroids", s.path("c.fvecs"), "--assignments", s.output("a.anna")] + extra + [huge]),
                              tool: "ann-kmeans", status: 65, mentioning: [Self.hugeMessage], scratch: s)
        }
        let hugeCentroids = try hugeVectors(s, from: "siftsmall_base.fvecs", count: 20, as: "hc.fvecs")
        try expectFailure(try s.run("ann-kmeans", ["--centroids", hugeCentroids, "--assignments", s.output("a.anna"), base]),
                          tool: "ann-kmeans", status: 65, mentioning: [Self.hugeMessage, "hc.fvecs"], scratch: s)
    }

    @Test func groundTruthRefusesHugeBaseOrQueries() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs"), queries = try s.sample("siftsmall_query.fvecs")
        let hugeBase = try hugeVectors(s, from: "siftsmall_base.fvecs", count: 500, as: "hb.fvecs")
        let hugeQueries = try hugeVectors(s, from: "siftsmall_query.fvecs", count: 100, as: "hq.fvecs")
        try expectFailure(try s.run("ann-groundtruth", ["--base", hugeBase, "-k", "5", queries]),
                          tool: "ann-groundtruth", status: 65, mentioning: [Self.hugeMessage, "hb.fvecs"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", base, "-k", "5", hugeQueries]),
                          tool: "ann-groundtruth", status: 65, mentioning: [Self.hugeMessage, "hq.fvecs"], scratch: s)
    }

    @Test func packQueryAndSweepRefuseHugeVectors() throws {
        let s = try Scratch()
        let idx = try s.siftIndex(k: 8, iters: 2)
        let gt = try s.groundTruth(idx.queries, k: 10)
        let hugeBase = try hugeVectors(s, from: "siftsmall_base.fvecs", count: 10000, as: "hb.fvecs")
        let hugeQueries = try hugeVectors(s, from: "siftsmall_query.fvecs", count: 100, as: "hq.fvecs")
        try expectFailure(try s.run("ann-pack", ["--centroids", idx.centroids, "--assignments", idx.assignments, "-o", s.output("x.anni"), hugeBase]),
                          tool: "ann-pack", status: 65, mentioning: [Self.hugeMessage], scratch: s)
        try expectFailure(try s.run("ann-query", ["--index", idx.index, "-o", s.output("r.annn"), hugeQueries]),
                          tool: "ann-query", status: 65, mentioning: [Self.hugeMessage], scratch: s)
        try expectFailure(try s.run("ann-eval", ["sweep", "--index", idx.index, "--gt", gt, "--nprobe", "1,2", "-o", s.output("c.tsv"), hugeQueries]),
                          tool: "ann-eval", status: 65, mentioning: [Self.hugeMessage], scratch: s)
    }

    /// A 68-byte .fvecs claiming dimension 2^20: ann-kmeans allocated 8192 × dim floats
    /// (32 GiB) before reading a record.
    @Test func kmeansHugeDimensionAllocatesNothingAhead() throws {
        let s = try Scratch()
        try s.write(Encode.le(Int32(1 << 20)) + Encode.floats((0..<16).map(Float.init)), to: "wide.fvecs")
        let wide = s.path("wide.fvecs")
        for args in [["-k", "1", "-o", s.output("c.fvecs"), wide],
                     ["-k", "1", "--sample", "5", "-o", s.output("c.fvecs"), "--assignments", s.output("a.anna"), wide],
                     ["-k", "1", "--from", "fvecs", "-o", s.output("c.fvecs")]] {
            let m = try s.runMeasured("ann-kmeans", args, stdin: args.contains("--from") ? wide : nil)
            try expectFailure(m.result, tool: "ann-kmeans", status: 65, mentioning: ["truncated"], scratch: s)
            expectBounded(m)
        }
    }

    /// Ten vectors of dimension 65536 took 16 GB: the covariance of the screening projection
    /// grew with the square of the dimension. Now they cluster in memory the data justifies.
    @Test func kmeansTenWideVectorsStayInBoundedMemory() throws {
        let s = try Scratch()
        let d = 65536
        var rng = RandomGenerator(seed: 5)
        try s.write(Encode.fvecs((0..<(10 * d)).map { _ in rng.unit() }, dim: d), to: "wide.fvecs")
        let m = try s.runMeasured("ann-kmeans", ["-k", "2", "--iters", "3", "-o", s.output("c.fvecs"), "--assignments", s.output("a.ivecs"), s.path("wide.fvecs")])
        expectSuccess(m.result)
        expectBounded(m)
        let c = try VectorReader(path: s.output("c.fvecs"))
        let values = try c.readAll().count
        #expect(c.dim == d && values == 2 * d)
    }

    /// A 96-byte neighbour list whose header claims 2^16 rows of 2^20 neighbours (256 GiB):
    /// as results, as ground truth, and through zstd (no length to check it against).
    @Test func evalScoreHostileNeighbourListCount() throws {
        let s = try Scratch()
        let hostile = Encode.header(magic: "ANNN", type: 0, metric: 1, dim: 1 << 20, count: 1 << 16) + [UInt8](repeating: 0, count: 64)
        try s.write(hostile, to: "h.annn")
        var z = [UInt8]()
        try hostile.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &z) }
        try s.write(z, to: "h.annn.zst")
        try s.write(Encode.header(magic: "ANNN", type: 0, metric: 1, dim: 1, count: 1) + Encode.le(UInt32(0)) + Encode.floats([0]), to: "ok.annn")
        var ibin = Encode.le(UInt32.max) + Encode.le(UInt32(1 << 20)) + [UInt8](repeating: 0, count: 88)
        try s.write(ibin, to: "h.ibin")
        try ibin.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &z) }
        ibin = z
        try s.write(ibin, to: "h.ibin.zst")
        for (gt, results) in [("ok.annn", "h.annn"), ("ok.annn", "h.annn.zst"), ("h.annn", "ok.annn"), ("h.annn.zst", "ok.annn"),
                              ("h.ibin", "ok.annn"), ("h.ibin.zst", "ok.annn")] {
            let m = try s.runMeasured("ann-eval", ["score", "--gt", s.path(gt), s.path(results)])
            try expectFailure(m.result, tool: "ann-eval", status: 65, mentioning: ["truncated"], scratch: s)
            expectBounded(m)
        }
    }

    /// `ann-query --batch 1000000000` allocated 512 GB before reading a query.
    @Test func queryBatchIsBoundedAndGrowsWithTheQueries() throws {
        let s = try Scratch()
        let m = try s.runMeasured("ann-query", ["--index", s.path("none.anni"), "--batch", "1000000000", s.path("none.fvecs")])
        try expectFailure(m.result, tool: "ann-query", status: 64, mentioning: ["--batch", "1048576"], scratch: s)
        expectBounded(m)
        let idx = try s.siftIndex(k: 8, iters: 2)
        let big = try s.runMeasured("ann-query", ["--index", idx.index, "--batch", "1048576", "-o", s.output("r.annn"), idx.queries])
        expectSuccess(big.result)
        expectBounded(big)
        let normal = try s.runMeasured("ann-query", ["--index", idx.index, "-o", s.output("n.annn"), idx.queries])
        expectSuccess(normal.result)
        let batched = try readBytes(s.output("r.annn")), plain = try readBytes(s.output("n.annn"))
        #expect(!batched.isEmpty && batched == plain, "the batch size changes no result")
    }

    /// Options that size memory are refused past their bounds before anything is read.
    @Test func optionBounds() throws {
        let s = try Scratch()
        let none = s.path("none.fvecs")
        let cases: [(String, [String], String)] = [
            ("ann-query", ["--index", none, "-k", "2000000", none], "-k"),
            ("ann-query", ["--index", none, "--threads", "100000", none], "--threads"),
            ("ann-groundtruth", ["--base", none, "-k", "2000000", none], "-k"),
            ("ann-eval", ["sweep", "--index", none, "--gt", none, "-k", "2000000", none], "-k"),
            ("ann-eval", ["sweep", "--index", none, "--gt", none, "--threads", "0", none], "--threads"),
            ("ann-pack", ["--centroids", none, "--assignments", none, "--memory", "1099511627776", none], "--memory"),
            ("ann-kmeans", ["-k", "8589934592", none], "-k"),
            ("ann-kmeans", ["-k", "4", "--sample", "8589934592", none], "--sample"),
        ]
        for (tool, args, flag) in cases {
            let m = try s.runMeasured(tool, args)
            try expectFailure(m.result, tool: tool, status: 64, mentioning: [flag], scratch: s)
            expectBounded(m)
        }
    }

    /// A base of unknown length (zstd) must show k vectors before k neighbours per query are
    /// allocated: -k 2^20 over a 50-vector base is refused without the lists.
    @Test func groundTruthUnknownLengthBaseShowsKVectorsFirst() throws {
        let s = try Scratch()
        let v = try SampleData.vectors("siftsmall_base.fvecs")
        let raw = Encode.fvecs(Array(v.values.prefix(50 * v.dim)), dim: v.dim)
        var z = [UInt8]()
        try raw.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &z) }
        try s.write(z, to: "b.fvecs.zst")
        let queries = try s.sample("siftsmall_query.fvecs")
        let m = try s.runMeasured("ann-groundtruth", ["--base", s.path("b.fvecs.zst"), "-k", "1048576", "-o", s.output("gt.annn"), queries])
        try expectFailure(m.result, tool: "ann-groundtruth", status: 64, mentioning: ["larger than the base (50 vectors)"], scratch: s)
        expectBounded(m)
        let ok = try s.runMeasured("ann-groundtruth", ["--base", s.path("b.fvecs.zst"), "-k", "50", "-o", s.output("gt.annn"), queries])
        expectSuccess(ok.result)
        let row = try NeighborList.load(s.output("gt.annn")).row(0)
        #expect(row.count == 50 && row.allSatisfy { $0 < 50 })
    }
}
