import ANNKit
import Foundation
import Testing

/// `--shard i/N` and `--merge`: the slices of an input, answered apart and joined, are exactly
/// the answer of one run over the whole input.
@Suite struct ShardCLITests {
    /// Ground truth over 3 slices of the base (fvecs, bvecs, native), merged: byte-identical to
    /// one run over the whole base, for l2 and for ip.
    @Test(arguments: [("siftsmall_base.fvecs", Metric.l2), ("siftsmall_base.fvecs", .ip), ("bigann10k_base.bvecs", .l2)])
    func groundTruthShardsMergeToTheWhole(_ baseName: String, _ metric: Metric) throws {
        let s = try Scratch()
        let base = try s.sample(baseName)
        var queries = try s.sample("siftsmall_query.fvecs")
        if baseName.hasSuffix(".bvecs") {
            // uint8 queries for a uint8 base: its first 50 vectors.
            try Data(try Data(contentsOf: URL(fileURLWithPath: base)).prefix(50 * 132)).write(to: URL(fileURLWithPath: s.path("q.bvecs")))
            queries = s.path("q.bvecs")
        }
        let common = ["-k", "20", "--metric", metric.rawValue]
        try s.setup("ann-groundtruth", ["--base", base, "-o", s.path("whole.annn")] + common + [queries])
        var parts = [String]()
        for i in 0..<3 {
            parts.append(s.path("part\(i).annn"))
            try s.setup("ann-groundtruth", ["--base", base, "--shard", "\(i)/3", "-o", parts[i]] + common + [queries])
            let part = try NeighborList.load(parts[i])
            let slice = try Shard(index: i, count: 3).records(of: 10_000)
            #expect(part.ids.allSatisfy { slice.contains(Int($0)) }, "shard \(i) answers with the ids of its own slice")
        }
        let r = try s.run("ann-groundtruth", ["--merge", "-o", s.output("merged.annn")] + parts)
        expectSuccess(r)
        #expect(try readBytes(s.output("merged.annn")) == readBytes(s.path("whole.annn")))
    }

    /// Queries answered in 3 shards, joined with --merge: the one-run results; the stats of the
    /// shards, concatenated, are the one-run table but for the time.
    @Test func queryShardsJoinToTheWhole() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        try s.setup("ann-query", ["--index", f.index, "--nprobe", "3", "--stats", s.path("whole.tsv"), "-o", s.path("whole.annn"), f.queries])
        var parts = [String](), table = ""
        for i in 0..<3 {
            parts.append(s.path("q\(i).annn"))
            try s.setup("ann-query", ["--index", f.index, "--nprobe", "3", "--shard", "\(i)/3", "--stats", s.path("q\(i).tsv"), "-o", parts[i], f.queries])
            table += try String(contentsOfFile: s.path("q\(i).tsv"), encoding: .utf8)
        }
        expectSuccess(try s.run("ann-query", ["--merge", "-o", s.output("joined.annn")] + parts))
        #expect(try readBytes(s.output("joined.annn")) == readBytes(s.path("whole.annn")))
        let withoutTime = { (text: String) in text.split(separator: "\n").map { $0.split(separator: "\t").dropLast().joined(separator: "\t") } }
        #expect(withoutTime(table) == withoutTime(try String(contentsOfFile: s.path("whole.tsv"), encoding: .utf8)))
    }

    /// The assignment and the pack in 3 slices, merged: the index of one ann-pack of the whole
    /// base, byte for byte; slices given out of order are refused.
    @Test func packShardsMergeToTheOneProcessIndex() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        var parts = [String]()
        for i in 0..<3 {
            try s.setup("ann-kmeans", ["--centroids", f.centroids, "--shard", "\(i)/3", "--assignments", s.path("a\(i).anna"), f.base])
            parts.append(s.path("p\(i).anni"))
            try s.setup("ann-pack", ["--centroids", f.centroids, "--assignments", s.path("a\(i).anna"), "--shard", "\(i)/3", "-o", parts[i], f.base])
        }
        expectSuccess(try s.run("ann-pack", ["--merge", "--base", f.base, "-o", s.output("merged.anni")] + parts))
        #expect(try readBytes(s.output("merged.anni")) == readBytes(f.index))
        try FileManager.default.removeItem(atPath: s.output("merged.anni"))
        try expectFailure(try s.run("ann-pack", ["--merge", "--base", f.base, "-o", s.output("bad.anni"), parts[1], parts[0], parts[2]]),
                          tool: "ann-pack", status: 65, mentioning: ["out of order"], scratch: s)
    }

    /// What cannot be read by position is refused in one line, before anything is read.
    @Test func unsliceableInputsAreRefused() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let zst = s.path("q.fvecs.zst")
        try writeBytes(try readBytes(SampleData.path("siftsmall_query.fvecs.zst")), to: zst)
        try expectFailure(try s.run("ann-query", ["--index", f.index, "--shard", "0/2", "-o", s.output("r.annn"), zst]),
                          tool: "ann-query", status: 64, mentioning: ["shard", "zstd"], scratch: s)
        try expectFailure(try s.run("ann-query", ["--index", f.index, "--shard", "0/2", "-o", s.output("r.annn")], stdin: f.queries),
                          tool: "ann-query", status: 64, mentioning: ["stdin"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--base", f.base, "-k", "5", "--shard", "3/3", "-o", s.output("g.annn"), f.queries]),
                          tool: "ann-groundtruth", status: 64, mentioning: ["--shard"], scratch: s)
        try expectFailure(try s.run("ann-groundtruth", ["--merge", "-k", "5", "-o", s.output("g.annn"), f.queries]),
                          tool: "ann-groundtruth", status: 64, mentioning: ["--merge"], scratch: s)
    }

    /// A sweep of 3 slices of the queries, merged: the one-run curve but for the time; parts
    /// out of order, of another index or damaged are refused.
    @Test func sweepShardsMergeToTheWholeCurve() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let truth = try s.groundTruth(f.queries, k: 10)
        let common = ["--index", f.index, "--gt", truth, "--nprobe", "1,2,4,8"]
        try s.setup("ann-eval", ["sweep", "-q"] + common + ["-o", s.path("whole.tsv"), f.queries])
        var parts = [String]()
        for i in 0..<3 {
            parts.append(s.path("s\(i).part"))
            try s.setup("ann-eval", ["sweep", "-q", "--shard", "\(i)/3"] + common + ["-o", parts[i], f.queries])
        }
        let r = try s.run("ann-eval", ["sweep", "--merge", "-o", s.output("merged.tsv")] + parts)
        expectSuccess(r)
        let withoutTime = { (path: String) in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").prefix(6).joined(separator: "\t") }
        }
        #expect(try withoutTime(s.output("merged.tsv")) == withoutTime(s.path("whole.tsv")))
        #expect(String(decoding: r.stdout, as: UTF8.self).contains("100 queries"))
        try FileManager.default.removeItem(atPath: s.output("merged.tsv"))
        try expectFailure(try s.run("ann-eval", ["sweep", "--merge", "-o", s.output("bad.tsv"), parts[1], parts[0], parts[2]]),
                          tool: "ann-eval", status: 65, mentioning: ["shard order"], scratch: s)
        var damaged = try readBytes(parts[2])
        damaged[damaged.count / 2] ^= 1
        try writeBytes(damaged, to: s.path("damaged.part"))
        try expectFailure(try s.run("ann-eval", ["sweep", "--merge", "-o", s.output("bad.tsv"), parts[0], parts[1], s.path("damaged.part")]),
                          tool: "ann-eval", status: 65, mentioning: ["checksum"], scratch: s)
        let other = try s.siftIndex(seed: 2, name: "j")
        try s.setup("ann-eval", ["sweep", "-q", "--shard", "2/3", "--index", other.index, "--gt", truth, "--nprobe", "1,2,4,8",
                                 "-o", s.path("other.part"), f.queries])
        try expectFailure(try s.run("ann-eval", ["sweep", "--merge", "-o", s.output("bad.tsv"), parts[0], parts[1], s.path("other.part")]),
                          tool: "ann-eval", status: 65, mentioning: ["index differs"], scratch: s)
    }

    /// Duplication marked in 3 slices of the training queries and merged: the assignment and
    /// the next index of one process, byte for byte, for every ranking; a merge against another
    /// index is refused, and ann-train, which learns from all its queries at once, refuses --shard.
    @Test func duplicationShardsMergeToTheOneProcessCopies() throws {
        let s = try Scratch()
        let f = try s.siftIndex()
        let train = try s.sample("bigann10k_base.bvecs")
        let truth = try s.groundTruth(train, k: 1, name: "train-gt.annn")
        try s.setup("ann-train", ["--router", "kernel", "--epochs", "1", "--index", f.index, "--gt", truth, "-o", s.path("m.annm"), train])
        let inputs = ["--model", s.path("m.annm"), "--index", f.index, "--gt", truth]
        var parts = [String]()
        for i in 0..<3 {
            parts.append(s.path("d\(i).part"))
            try s.setup("ann-dup", inputs + ["--shard", "\(i)/3", "-o", parts[i], train])
        }
        for rank in ["confidence", "margin", "random"] {
            try s.setup("ann-dup", inputs + ["--rank", rank, "-o", s.path("one.anna"), "--next-index", s.path("one.anni"), train])
            expectSuccess(try s.run("ann-dup", ["--merge", "--index", f.index, "--rank", rank, "-o", s.output("m.anna"),
                                                "--next-index", s.output("m.anni")] + parts))
            #expect(try readBytes(s.output("m.anna")) == readBytes(s.path("one.anna")), "\(rank)")
            #expect(try readBytes(s.output("m.anni")) == readBytes(s.path("one.anni")), "\(rank)")
            for file in ["m.anna", "m.anni"] { try FileManager.default.removeItem(atPath: s.output(file)) }
        }
        // The next index has the clustering and base of the first, not its members.
        try expectFailure(try s.run("ann-dup", ["--merge", "--index", s.path("one.anni"), "-o", s.output("bad.anna")] + parts),
                          tool: "ann-dup", status: 65, mentioning: ["another index"], scratch: s)
        try expectFailure(try s.run("ann-dup", ["--merge", "--index", f.index, "--model", s.path("m.annm"), "-o", s.output("bad.anna")] + parts),
                          tool: "ann-dup", status: 64, mentioning: ["--merge"], scratch: s)
        try expectFailure(try s.run("ann-train", ["--index", f.index, "--gt", truth, "--shard", "0/2", "-o", s.output("m.annm"), train]),
                          tool: "ann-train", status: 64, mentioning: ["--shard", "ann-groundtruth --shard"], scratch: s)
    }
}
