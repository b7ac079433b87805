import ANNKit
import Foundation
import Testing

/// Damaged and hostile indexes and router models on the built tools: every byte that decides
/// decoding or location is under a checksum, every number read from a file is bounded before
/// it sizes anything, and each refusal is one line with exit 65 (never a trap, never exit 0
/// with a wrong answer, never an allocation the data cannot justify).
@Suite struct FailClosedCLITests {
    /// The address space the tools run in here: several times what they need on this data, far
    /// below what the hostile fields below claim.
    static let limitMiB = 4096

    static func query(_ index: String, model: String? = nil, _ queries: String) -> [String] {
        ["--index", index, "--nprobe", "16"] + (model.map { ["--model", $0] } ?? []) + ["-o", "out/r.annn", queries]
    }

    /// The trailer's layout byte (2 byte planes, now at L-16) turned into 1 (rows) once made
    /// every reader decode vectors wrongly and exit 0; the trailer's checksum now refuses it, and
    /// any other trailer byte, before any field is used.
    @Test(arguments: [(16, UInt8(0x03)), (8, 0x01), (24, 0x01), (33, 0x80), (40, 0x01), (44, 0x01), (48, 0x20)])
    func damagedTrailerIsRefused(_ fromEnd: Int, _ flip: UInt8) throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        var b = try IndexBytes(f.index)
        if fromEnd == 16 { #expect(b.bytes[b.bytes.count - 16] == 2, "a float32 index is stored as byte planes") }
        b.bytes[b.bytes.count - fromEnd] ^= flip
        try s.write(b.bytes, to: "bad.anni")
        let r = try s.run("ann-query", Self.query("bad.anni", f.queries))
        let words = fromEnd == 48 ? "no trailer" : "trailer checksum mismatch"
        try expectFailure(r, tool: "ann-query", status: 65, mentioning: ["bad.anni: ", words], scratch: s)
    }

    /// Bit 63 of the directory offset (L-33) once trapped converting to Int: refused by the
    /// trailer's checksum, and, with that checksum recomputed, by the offset's bound.
    @Test func directoryOffsetBit63IsRefusedWithoutATrap() throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        var b = try IndexBytes(f.index)
        b.bytes[b.bytes.count - 33] ^= 0x80
        try s.write(b.bytes, to: "flipped.anni")
        try expectFailure(try s.run("ann-query", Self.query("flipped.anni", f.queries)), tool: "ann-query", status: 65,
                          mentioning: ["trailer checksum mismatch"], scratch: s)
        b.resealTrailer()
        try s.write(b.bytes, to: "resealed.anni")
        try expectFailure(try s.run("ann-query", Self.query("resealed.anni", f.queries)), tool: "ann-query", status: 65,
                          mentioning: ["the directory does not fit the file"], scratch: s)
    }

    /// A directory (checksums recomputed) claiming 2^26 vectors in one cluster: refused when
    /// the base has fewer; with N raised to match (header and trailer resealed), the index opens
    /// and the fetch refuses the frame without allocating the ~34 GB the claim implies.
    @Test func inflatedClusterIsRefusedWithoutTheAllocation() throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        var b = try IndexBytes(f.index)
        b.setVectors(1 << 26, ofCluster: 2)
        try s.write(b.bytes, to: "claims.anni")
        try expectFailure(try s.run("ann-query", Self.query("claims.anni", f.queries), addressSpaceMiB: Self.limitMiB), tool: "ann-query",
                          status: 65, mentioning: ["claims.anni: cluster 2: holds 67108864 vectors, more than the 10000 of the base"], scratch: s)
        b.setBaseCount(1 << 26)
        try s.write(b.bytes, to: "inflated.anni")
        try expectFailure(try s.run("ann-query", Self.query("inflated.anni", f.queries), addressSpaceMiB: Self.limitMiB), tool: "ann-query",
                          status: 65, mentioning: ["inflated.anni: cluster 2: zstd frame holds"], scratch: s)
    }

    /// An index or query stream of format version 1 (no header checksum) is refused by name.
    @Test func versionOneStreamsAreRefused() throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        var b = try IndexBytes(f.index)
        b.bytes[4] = 1
        try s.write(b.bytes, to: "old.anni")
        try expectFailure(try s.run("ann-query", Self.query("old.anni", f.queries)), tool: "ann-query", status: 65,
                          mentioning: ["old.anni: format version 1 of a packed index has no header checksum and is no longer read; regenerate it with this version"],
                          scratch: s)
        let q = try SampleData.vectors("siftsmall_query.fvecs")
        try s.write(Encode.header(version: 1, dim: 128, count: UInt64(q.values.count / 128)) + Encode.floats(q.values), to: "old.annv")
        try expectFailure(try s.run("ann-query", Self.query(f.index, s.path("old.annv"))), tool: "ann-query", status: 65,
                          mentioning: ["old.annv: format version 1 of vectors has no header checksum"], scratch: s)
    }

    /// Writes an MLP model for `index` (its fingerprint and centroids) with hidden layers of
    /// `hidden` units, `edit` applied to it first.
    static func writeModel(for index: String, to path: String, hidden: Int = 4, _ edit: (inout RouterModel) -> Void = { _ in }) throws {
        let idx = try PackedIndex(path: index)
        var m = RouterModel(dim: idx.dim, clusterCount: idx.clusterCount, hidden1: hidden, hidden2: hidden, metric: idx.metric,
                            centroids: idx.centroids, fingerprint: idx.fingerprint, centroidWeight: 1e-4,
                            mean: [Float](repeating: 0, count: idx.dim), scale: [Float](repeating: 0.01, count: idx.dim), seed: 1)
        edit(&m)
        let out = try OutputFile(path: path)
        try m.write(to: out)
        try out.commit()
    }

    /// A model's word count (header offset 16; its byte 19 once made ann-query reach 4 GB) set
    /// far above the file, header checksum recomputed: refused before the weights are allocated,
    /// read from a file, from a zstd file and from a pipe; and with the hidden width raised to
    /// agree with the count, a stream is refused as it arrives short, never allocated whole.
    @Test func inflatedModelIsRefusedWithoutTheAllocation() throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        try Self.writeModel(for: f.index, to: s.path("m.annm"))
        let good = try readBytes(s.path("m.annm"))
        expectSuccess(try s.run("ann-query", Self.query(f.index, model: "m.annm", f.queries), addressSpaceMiB: Self.limitMiB))
        try FileManager.default.removeItem(atPath: s.output("r.annn"))

        func claiming(_ words: UInt64, h1: UInt32? = nil) -> [UInt8] {
            var b = good
            b.replaceSubrange(16..<24, with: Encode.le(words))
            if let h1 { b.replaceSubrange(40..<44, with: Encode.le(h1)) }
            return Encode.resealedHeader(b)
        }
        func compressed(_ b: [UInt8]) throws -> [UInt8] {
            var out = [UInt8]()
            try b.withUnsafeBytes { try Zstd.compress($0, level: 1, into: &out) }
            return out
        }
        let huge = claiming((1 << 32) - 1)
        try s.write(huge, to: "huge.annm")
        try s.write(try compressed(huge), to: "huge.annm.zst")
        for name in ["huge.annm", "huge.annm.zst"] {
            try expectFailure(try s.run("ann-query", Self.query(f.index, model: name, f.queries), addressSpaceMiB: Self.limitMiB),
                              tool: "ann-query", status: 65, mentioning: ["\(name): ", "4294967295 weights"], scratch: s)
        }
        try expectFailure(try s.run("ann-query", Self.query(f.index, model: "/dev/stdin", f.queries), addressSpaceMiB: Self.limitMiB,
                                    stdinFile: s.path("huge.annm")),
                          tool: "ann-query", status: 65, mentioning: ["4294967295 weights"], scratch: s)
        // 2d + 130·h1 + 1 + 2K words (h2 = 1 after the edit below): about 15 GB claimed, agreeing with the fields.
        var agreeing = claiming(2 * 128 + 130 * 30_000_000 + 1 + 2 * 16, h1: 30_000_000)
        agreeing.replaceSubrange(44..<48, with: Encode.le(UInt32(1)))
        try s.write(agreeing, to: "agreeing.annm")
        try s.write(try compressed(agreeing), to: "agreeing.annm.zst")
        try expectFailure(try s.run("ann-query", Self.query(f.index, model: "agreeing.annm.zst", f.queries), addressSpaceMiB: Self.limitMiB),
                          tool: "ann-query", status: 65, mentioning: ["agreeing.annm.zst: truncated model"], scratch: s)
        try expectFailure(try s.run("ann-query", Self.query(f.index, model: "/dev/stdin", f.queries), addressSpaceMiB: Self.limitMiB,
                                    stdinFile: s.path("agreeing.annm")),
                          tool: "ann-query", status: 65, mentioning: ["truncated model"], scratch: s)
    }

    /// An MLP whose weights hold NaN or infinity (checksum right) is refused, as a kernel
    /// router's are.
    @Test func nonFiniteMLPIsRefused() throws {
        let s = try Scratch()
        let f = try s.siftIndex(iters: 3)
        try Self.writeModel(for: f.index, to: s.path("nan.annm")) { $0.w2[3] = .nan }
        try Self.writeModel(for: f.index, to: s.path("inf.annm")) { $0.b3[0] = -.infinity }
        for name in ["nan.annm", "inf.annm"] {
            try expectFailure(try s.run("ann-query", Self.query(f.index, model: name, f.queries)), tool: "ann-query", status: 65,
                              mentioning: ["\(name): the model holds NaN or infinite weights"], scratch: s)
        }
    }
}
