import ANNKit
import Foundation
import Testing

/// Shard parts (ann-formats(5), SHARD PARTS): what a slice hands to a merge is read back
/// exactly, refused when damaged in any byte, and merged only as slices 0 to N−1 of one run.
@Suite struct ShardPartTests {
    static func part(_ i: Int, of n: Int = 3, total: Int = 10, identity: [[String]] = [["index", "00ff", "7"], ["label", "a b"]],
                     rows: [[String]] = [["x", "1"], ["y", "-0.0"]]) throws -> ShardPart {
        ShardPart(kind: .sweep, shard: try Shard(index: i, count: n), total: total, identity: identity, columns: ["c1", "c2"], rows: rows)
    }

    @Test func readsBackWhatItWrites() throws {
        let p = try Self.part(1)
        let back = try ShardPart.decode(Array(p.text.utf8), source: "p")
        #expect(back == p)
        #expect(back.records == 4..<7)
        #expect(back.field("index") == ["00ff", "7"])
        #expect(back.field("missing") == nil)
    }

    /// Every bit of every byte is covered: one flipped bit anywhere is refused, as is every
    /// truncation.
    @Test func everyDamageIsRefused() throws {
        let bytes = Array(try Self.part(2).text.utf8)
        for i in bytes.indices {
            for bit in [0, 3, 7] {
                var d = bytes
                d[i] ^= UInt8(1 << bit)
                #expect(throws: ANNError.self, "byte \(i) bit \(bit)") { try ShardPart.decode(d, source: "p") }
            }
        }
        for n in 0..<bytes.count {
            #expect(throws: ANNError.self, "cut at \(n)") { try ShardPart.decode(Array(bytes.prefix(n)), source: "p") }
        }
    }

    /// A part whose records are not the slice its shard line names is refused, even with a
    /// good checksum.
    @Test func recordsMustBeTheSlice() throws {
        let text = try Self.part(1).text
        let body = text.components(separatedBy: "crc32c\t")[0].replacingOccurrences(of: "records\t4\t7\t10", with: "records\t4\t8\t10")
        let forged = body + "crc32c\t" + ShardPart.hex(Checksum.crc32c(Array(body.utf8))) + "\n"
        #expect(throws: ANNError.self) { try ShardPart.decode(Array(forged.utf8), source: "p") }
    }

    @Test func onlySlicesOfOneRunInOrderMerge() throws {
        let names = ["a", "b", "c"]
        let good = try (0..<3).map { try Self.part($0) }
        try ShardPart.checkSequence(good, names: names, kind: .sweep, columns: ["c1", "c2"])
        func refused(_ parts: [ShardPart], _ words: String, kind: ShardPart.Kind = .sweep, columns: [String] = ["c1", "c2"]) {
            do {
                try ShardPart.checkSequence(parts, names: Array(names.prefix(parts.count)), kind: kind, columns: columns)
                Issue.record("accepted: expected a refusal mentioning \(words)")
            } catch {
                #expect("\(error)".contains(words), "\(error)")
            }
        }
        refused([good[1], good[0], good[2]], "shard order")
        refused(Array(good.prefix(2)), "2 parts")
        refused([good[0], good[1], try Self.part(2, identity: [["index", "00fe", "7"], ["label", "a b"]])], "index differs")
        refused([good[0], good[1], try Self.part(2, total: 11)], "11 queries")
        refused(good, "not a duplication part", kind: .duplication)
        refused(good, "columns", columns: ["c1"])
    }

    /// The tallies of slices add up to the whole run's points; counts a slice cannot hold are refused.
    @Test func sweepTalliesAddUp() throws {
        func tally(_ n: Int, _ h: Int) -> RecallTally {
            RecallTally(setting: "nprobe=2", queries: n, hits1: h, hits10: 3 * h, vectors: 10 * n, bytes: 1_280 * n, clusters: 2 * n, micros: 10 * n)
        }
        let identity = [["index", "1", "2", "3", "10", "12", "4"], ["truth", "5", "10"], ["routing", "centroids"], ["router-memory", "256"],
                        ["k", "10"], ["label", "i"]]
        let slices = try (0..<3).map { try Shard(index: $0, count: 3) }
        let counts = slices.map { $0.records(of: 10).count }
        let parts = zip(slices, counts).map { SweepShards.part([tally($1, $1 - 1)], shard: $0, total: 10, identity: identity) }
        let run = try SweepShards.merge(parts.map { try ShardPart.decode(Array($0.text.utf8), source: "p") }, names: ["a", "b", "c"])
        #expect(run.tallies == [tally(10, 7)])
        #expect(run.tallies[0].point.recall1 == 0.7 && run.tallies[0].point.vectors == 10)
        #expect(run.queries == 10 && run.clusterCount == 4 && run.baseCount == 10 && run.routerFootprint == 256 && run.label == "i")
        var bad = parts
        bad[1] = SweepShards.part([tally(counts[1], counts[1] + 1)], shard: slices[1], total: 10, identity: identity)
        #expect(throws: ANNError.self) { try SweepShards.merge(bad, names: ["a", "b", "c"]) }
    }

    /// Marking the slices of the training queries apart, then merging, gives the marks and the
    /// copies of one process, scores bit for bit.
    @Test func duplicationSlicesMarkAsOneProcess() throws {
        let p = try RouterProblem.get()
        let m = DuplicationTests.model(p)
        let skip = { (q: Int) in RouterExamples.isHeldOut(q, validation: 0.1) }
        let whole = Duplication.mark(model: m, examples: p.examples, keys: p.keys, skip: skip)
        #expect(!whole.isEmpty)
        let index = try withTemporaryDirectory { dir in
            _ = try p.index.pack(to: "\(dir)/i.anni")
            return try PackedIndex(path: "\(dir)/i.anni")
        }
        let identity = DuplicationShards.identity(index: index, truthChecksum: 1, model: 2, validation: 0.1)
        var parts = [ShardPart]()
        for i in 0..<4 {
            let shard = try Shard(index: i, count: 4)
            let r = shard.records(of: p.examples.count)
            let ex = RouterExamples(dim: p.examples.dim, queries: Array(p.examples.queries[(r.lowerBound * 128)..<(r.upperBound * 128)]),
                                    positives: Array(p.examples.positives[r]))
            let marks = Duplication.mark(model: m, examples: ex, keys: Array(p.keys[r]), firstQuery: r.lowerBound, skip: skip)
            parts.append(try ShardPart.decode(Array(DuplicationShards.part(marks, shard: shard, total: p.examples.count, identity: identity).text.utf8), source: "p\(i)"))
        }
        let merged = try DuplicationShards.merge(parts, names: ["a", "b", "c", "d"], index: index)
        #expect(merged.pairs == p.examples.count)
        #expect(merged.marks.count == whole.count)
        if let i = zip(merged.marks, whole).map({ $0 != $1 || $0.confidence.bitPattern != $1.confidence.bitPattern || $0.margin.bitPattern != $1.margin.bitPattern }).firstIndex(of: true) {
            Issue.record("mark \(i) differs: \(merged.marks[i]) sliced, \(whole[i]) whole")
        }
        let one = Duplication.run(model: m, examples: p.examples, keys: p.keys, assignment: p.index.assignment, fraction: 0.5, ranking: .margin, seed: 1,
                                  skip: skip).0
        let sliced = Duplication.apply(merged.marks, pairs: merged.pairs, assignment: p.index.assignment, fraction: 0.5, ranking: .margin, seed: 1).0
        #expect(one.vectors == sliced.vectors && one.clusters == sliced.clusters)
        // Marks out of the index's range are refused.
        var forged = parts[0]
        forged.rows[0][2] = "\(index.clusterCount)"
        #expect(throws: ANNError.self) { try DuplicationShards.merge([forged] + parts.dropFirst(), names: ["a", "b", "c", "d"], index: index) }
    }
}
