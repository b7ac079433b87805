import ANNKit
import Foundation
import Testing

/// IndexWriter and PackedIndex: what is written is what ann-formats(5) specifies, what is read
/// back is what was written, and every kind of damage is found and named.
@Suite struct PackedIndexTests {
    /// 2,000 siftsmall vectors in 8 clusters, every 10th also in a second cluster, and a 9th
    /// cluster that stays empty.
    static func fixture(type: ElementType = .float32) throws -> IndexFixture {
        try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 10, emptyClusters: 1, type: type)
    }

    /// The file read by hand, as ann-formats(5) lays it out.
    struct Parsed {
        var bytes: [UInt8]
        var k: Int
        var dim: Int
        var dirOffset: Int
        var entries: [(offset: Int, size: Int, vectors: Int, crc: UInt32, reserved: UInt32)]
        var trailer: ArraySlice<UInt8> { bytes[(bytes.count - 48)...] }
        var trailerStart: Int { bytes.count - 48 }
        var directory: ArraySlice<UInt8> { bytes[dirOffset..<(bytes.count - 48)] }
        func frame(_ c: Int) -> ArraySlice<UInt8> { bytes[entries[c].offset..<(entries[c].offset + entries[c].size)] }

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            func u32(_ o: Int) -> UInt32 { bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) } }
            func u64(_ o: Int) -> UInt64 { bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) } }
            let k = Int(u32(12)), dir = Int(u64(bytes.count - 48 + 8))
            dim = Int(u32(8))
            self.k = k
            dirOffset = dir
            entries = (0..<k).map { c in
                let o = dir + 24 * c
                return (Int(u64(o)), Int(u32(o + 8)), Int(u32(o + 12)), u32(o + 16), u32(o + 20))
            }
        }

        /// Rewrites the trailer's own CRC, so that only the checks of its fields can notice a change.
        mutating func resealTrailer() {
            let t = trailerStart
            bytes.replaceSubrange((t + 44)..<(t + 48), with: Encode.le(Checksum.crc32c(Array(bytes[t..<(t + 44)]))))
        }

        /// Rewrites the directory CRC in the trailer (and the trailer's CRC), so that only deeper
        /// checks can notice a change.
        mutating func resealDirectory() {
            let crc = Checksum.crc32c(Array(directory))
            bytes.replaceSubrange((trailerStart + 4)..<(trailerStart + 8), with: Encode.le(crc))
            resealTrailer()
        }

        mutating func setEntry(_ c: Int, offset: UInt64? = nil, vectors: UInt32? = nil, crc: UInt32? = nil) {
            let o = dirOffset + 24 * c
            if let offset { bytes.replaceSubrange(o..<(o + 8), with: Encode.le(offset)) }
            if let vectors { bytes.replaceSubrange((o + 12)..<(o + 16), with: Encode.le(vectors)) }
            if let crc { bytes.replaceSubrange((o + 16)..<(o + 20), with: Encode.le(crc)) }
        }

        /// Replaces cluster `c`'s frame by one encoded here from `ids` and float32 `vectors` (with
        /// `extra` bytes after it), moving what follows and recomputing every checksum, so that
        /// only the checks of the frame's content can notice.
        mutating func replaceFrame(_ c: Int, ids: [UInt32], vectors: [Float], dim: Int, appending extra: [UInt8] = []) {
            let n = ids.count
            var content = [UInt8](repeating: 0, count: ClusterFrame.byteCount(vectors: n, dim: dim, type: .float32))
            content.withUnsafeMutableBytes { out in
                ids.withUnsafeBufferPointer { i in
                    vectors.withUnsafeBytes { v in
                        ClusterFrame.encode(ids: i.baseAddress!, vectors: v.baseAddress!, n: n, dim: dim, type: .float32,
                                            layout: .bytePlanes, into: out.baseAddress!)
                    }
                }
            }
            var frame = [UInt8]()
            try! content.withUnsafeBytes { try Zstd.compress($0, level: 3, into: &frame) }
            frame += extra
            let old = entries[c]
            let shift = frame.count - old.size
            bytes.replaceSubrange(old.offset..<(old.offset + old.size), with: frame)
            let dir = dirOffset + shift
            for e in 0..<k {
                let o = dir + 24 * e
                if e == c {
                    bytes.replaceSubrange((o + 8)..<(o + 12), with: Encode.le(UInt32(frame.count)))
                    bytes.replaceSubrange((o + 12)..<(o + 16), with: Encode.le(UInt32(n)))
                    bytes.replaceSubrange((o + 16)..<(o + 20), with: Encode.le(Checksum.crc32c(frame)))
                } else if entries[e].offset > old.offset {
                    bytes.replaceSubrange(o..<(o + 8), with: Encode.le(UInt64(entries[e].offset + shift)))
                }
            }
            bytes.replaceSubrange((trailerStart + 8)..<(trailerStart + 16), with: Encode.le(UInt64(dir)))
            self = Parsed(bytes)
            resealDirectory()
        }

        /// Sets the base's vector count N in the header and the trailer, both resealed.
        mutating func setBaseCount(_ n: UInt32) {
            bytes.replaceSubrange(16..<24, with: Encode.le(UInt64(n)))
            bytes = Encode.resealedHeader(bytes)
            bytes.replaceSubrange((trailerStart + 40)..<(trailerStart + 44), with: Encode.le(n))
            resealTrailer()
        }
    }

    @Test func readsBackWhatWasWritten() throws {
        let f = try Self.fixture()
        try withTemporaryDirectory { dir in
            let report = try f.pack(to: "\(dir)/i.anni")
            let members = f.members
            #expect(report.clusters == 9)
            #expect(report.vectors == 2000)
            #expect(report.copies == 2000 + 200)
            #expect(report.clusterSizes == members.map(\.count))
            #expect(report.clusterSizes[8] == 0)
            #expect(report.rawBytes == report.copies * (4 + 128 * 4))
            #expect(report.fileBytes == (try readBytes("\(dir)/i.anni")).count)

            let idx = try PackedIndex(path: "\(dir)/i.anni")
            #expect(idx.dim == 128 && idx.elementType == .float32 && idx.metric == .l2)
            #expect(idx.vectorCount == 2000 && idx.clusterCount == 9)
            #expect(idx.baseCount == 2000 && idx.baseFingerprint == f.baseFingerprint)
            #expect(idx.layout == .bytePlanes && idx.level == 3)
            #expect(idx.centroids.map(\.bitPattern) == f.centroids.map(\.bitPattern))
            #expect(idx.fingerprint == Fingerprint.clustering(storedCentroids: f.centroids, dim: 128, metric: .l2))
            for c in 0..<9 {
                #expect(idx.entries[c].vectors == members[c].count)
                let got = try fetchCluster(idx, c)
                #expect(got.ids == members[c], "cluster \(c)")
                let expected = members[c].flatMap { f.row(Int($0)) }
                #expect(got.vectors == expected, "cluster \(c)")
            }
        }
    }

    @Test func uint8VectorsStayUint8() throws {
        let f = try Self.fixture(type: .uint8)
        let floats = try Self.fixture(type: .float32)
        try withTemporaryDirectory { dir in
            let r = try f.pack(to: "\(dir)/u8.anni")
            let r32 = try floats.pack(to: "\(dir)/f32.anni")
            #expect(r.rawBytes == r.copies * (4 + 128))
            #expect(r.fileBytes < r32.fileBytes)
            let idx = try PackedIndex(path: "\(dir)/u8.anni")
            #expect(idx.elementType == .uint8 && idx.layout == .rows)
            let members = f.members
            for c in [0, 3, 8] {
                let got = try fetchCluster(idx, c)
                #expect(got.ids == members[c])
                #expect(got.vectors == members[c].flatMap { f.row(Int($0)) })
            }
        }
    }

    /// The layout of ann-formats(5), read without the library's reader.
    @Test func fileLayoutAsSpecified() throws {
        let f = try Self.fixture()
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni", level: 5)
            let p = Parsed(try readBytes("\(dir)/i.anni"))
            #expect(Array(p.bytes.prefix(32)) == Encode.header(magic: "ANNI", type: 1, metric: 1, dim: 128, aux: 9, count: 2000))
            #expect(p.k == 9 && p.dim == 128)
            // Frames back to back from the end of the header to the directory.
            var at = 32
            for c in 0..<9 {
                let e = p.entries[c]
                #expect(e.offset == at, "cluster \(c)")
                #expect(e.vectors == f.members[c].count)
                #expect(e.reserved == 0)
                #expect(Array(p.frame(c).prefix(4)) == Zstd.frameMagic)
                #expect(Checksum.crc32c(Array(p.frame(c))) == e.crc)
                at += e.size
            }
            #expect(at == p.dirOffset)
            // The directory: entries, then the centroids; the trailer after it.
            #expect(p.directory.count == 9 * 24 + 9 * 128 * 4)
            #expect(Array(p.directory.suffix(9 * 128 * 4)) == Encode.floats(f.centroids))
            let t = Array(p.trailer)
            #expect(t.count == 48)
            #expect(Array(t[0..<4]) == Array("ANNT".utf8))
            #expect(Array(t[4..<8]) == Encode.le(Checksum.crc32c(Array(p.directory))))
            #expect(Array(t[8..<16]) == Encode.le(UInt64(p.dirOffset)))
            let fp = (Encode.le(UInt32(9)) + Encode.le(UInt32(128)) + [1] + Encode.floats(f.centroids)).withUnsafeBytes { Checksum.fnv1a($0) }
            #expect(Array(t[16..<24]) == Encode.le(fp))
            #expect(Array(t[24..<32]) == Encode.le(f.baseFingerprint))
            #expect(t[32] == 2 && t[33] == 5)
            #expect(t[34..<40].allSatisfy { $0 == 0 })
            #expect(Array(t[40..<44]) == Encode.le(UInt32(2000)))
            #expect(Array(t[44..<48]) == Encode.le(Checksum.crc32c(Array(t[0..<44]))))
        }
    }

    /// The spill file changes where vectors wait, never what is written.
    @Test(arguments: [ElementType.float32, .uint8])
    func spillingGivesTheSameIndex(_ type: ElementType) throws {
        let f = try Self.fixture(type: type)
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/memory.anni")
            let whole = try readBytes("\(dir)/memory.anni")
            // 1 byte: a spill after every vector; 40 kB: after every few dozen.
            for budget in [1, 40_000] {
                let r = try f.pack(to: "\(dir)/spilled.anni", budget: budget)
                #expect(try readBytes("\(dir)/spilled.anni") == whole, "budget \(budget)")
                #expect(r.clusterSizes == f.members.map(\.count))
            }
        }
    }

    @Test func fingerprintIdentifiesTheClustering() {
        let c: [Float] = (0..<32).map { Float($0) * 0.5 }
        let base = Fingerprint.clustering(storedCentroids: c, dim: 8, metric: .l2)
        #expect(Fingerprint.clustering(storedCentroids: c, dim: 8, metric: .l2) == base)
        #expect(Fingerprint.clustering(storedCentroids: c, dim: 8, metric: .ip) != base)
        #expect(Fingerprint.clustering(storedCentroids: c, dim: 4, metric: .l2) != base)
        var moved = c
        moved[17] = moved[17].nextUp
        #expect(Fingerprint.clustering(storedCentroids: moved, dim: 8, metric: .l2) != base)
    }

    // MARK: - Damage

    /// Packs the fixture, lets `damage` change the bytes, and writes them back.
    func damaged(_ damage: (inout Parsed) -> Void, _ body: (String) throws -> Void) throws {
        let f = try Self.fixture()
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            var p = Parsed(try readBytes("\(dir)/i.anni"))
            damage(&p)
            try writeBytes(p.bytes, to: "\(dir)/bad.anni")
            try body("\(dir)/bad.anni")
        }
    }

    /// A flipped byte inside a frame: the index opens, that cluster is refused by name, the
    /// others still read.
    @Test(arguments: [0, 5])
    func flippedByteInAFrameNamesTheCluster(_ c: Int) throws {
        try damaged({ p in p.bytes[p.entries[c].offset + p.entries[c].size / 2] ^= 0x10 }) { path in
            let idx = try PackedIndex(path: path)
            let e = annError { _ = try fetchCluster(idx, c) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("\(path): cluster \(c): checksum mismatch") == true, "\(String(describing: e))")
            let other = (c + 1) % 8
            #expect(try fetchCluster(idx, other).ids.count == idx.entries[other].vectors)
        }
    }

    /// A damaged frame whose CRC was recomputed too: zstd's own checks still refuse it.
    @Test func damagedFrameWithMatchingChecksumNamesTheCluster() throws {
        let c = 3
        try damaged({ p in
            p.bytes[p.entries[c].offset + p.entries[c].size - 6] ^= 0xFF
            p.setEntry(c, crc: Checksum.crc32c(Array(p.frame(c))))
            p.resealDirectory()
        }) { path in
            let idx = try PackedIndex(path: path)
            let e = annError { _ = try fetchCluster(idx, c) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("cluster \(c)") == true, "\(String(describing: e))")
        }
    }

    @Test(arguments: [0, 16, 32, 63, 1000, -1, -31, -32, -33])
    func truncatedFileIsRefused(_ length: Int) throws {
        try damaged({ p in p.bytes = Array(p.bytes.prefix(length >= 0 ? length : p.bytes.count + length)) }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("truncated") == true, "\(String(describing: e))")
        }
    }

    /// Bytes lost from the middle, the trailer intact: the directory no longer fits.
    @Test func bytesLostInsideAreFound() throws {
        try damaged({ p in p.bytes.removeSubrange(p.entries[2].offset..<(p.entries[2].offset + 10)) }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("the directory does not fit the file") == true, "\(String(describing: e))")
        }
    }

    /// Every byte of the trailer is covered: the magic by its check, the rest by the trailer's
    /// CRC (a flip of the layout byte, 2 to 1, once decoded every vector wrongly and exited 0).
    @Test func everyTrailerByteIsCovered() throws {
        let f = try Self.fixture()
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            let good = try readBytes("\(dir)/i.anni")
            for at in 0..<48 {
                for flip: UInt8 in [0x01, 0x80] {
                    var b = good
                    b[b.count - 48 + at] ^= flip
                    try writeBytes(b, to: "\(dir)/bad.anni")
                    let e = annError { _ = try PackedIndex(path: "\(dir)/bad.anni") }
                    #expect(e?.exitCode == 65, "trailer byte \(at) ^ \(flip): accepted")
                    let words = at < 4 ? "no trailer" : "trailer checksum mismatch"
                    #expect(e?.description.contains(words) == true, "trailer byte \(at): \(String(describing: e))")
                }
            }
        }
    }

    /// Fields changed with the trailer's CRC recomputed: each is still checked on its own.
    @Test(arguments: [
        (4, 0x01, "directory checksum mismatch"),
        (8, 0x08, "does not fit"),
        (15, 0x80, "does not fit"),
        (16, 0x01, "fingerprint"),
        (32, 0x07, "unknown vector layout"),
        (32, 0x02, "unknown vector layout"),
        (33, 0x40, "zstd level"),
        (34, 0x01, "reserved trailer bytes"),
        (39, 0x80, "reserved trailer bytes"),
        (40, 0x01, "trailer counts"),
        (43, 0x80, "trailer counts"),
    ])
    func resealedTrailerFieldIsRefused(_ at: Int, _ flip: UInt8, _ words: String) throws {
        try damaged({ p in
            p.bytes[p.trailerStart + at] ^= flip
            p.resealTrailer()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains(words) == true, "\(String(describing: e))")
        }
    }

    /// Bit 63 of the directory offset once trapped converting to Int; every huge value is refused.
    @Test(arguments: [UInt64(1) << 63, UInt64.max, UInt64(Int.max), UInt64(1) << 40])
    func hugeDirectoryOffsetIsRefused(_ offset: UInt64) throws {
        try damaged({ p in
            p.bytes.replaceSubrange((p.trailerStart + 8)..<(p.trailerStart + 16), with: Encode.le(offset))
            p.resealTrailer()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("the directory does not fit the file") == true, "\(String(describing: e))")
        }
    }

    /// The base fingerprint is recorded, not checkable from the index alone: a changed one reads.
    @Test func baseFingerprintIsRecorded() throws {
        let f = try Self.fixture()
        try damaged({ p in
            p.bytes[p.trailerStart + 24] ^= 0x01
            p.resealTrailer()
        }) { path in
            let idx = try PackedIndex(path: path)
            #expect(idx.baseFingerprint == f.baseFingerprint ^ 1)
        }
    }

    /// Any byte of the directory (an entry, a centroid) is covered by its checksum.
    @Test(arguments: [0, 8, 12, 16, 24 * 4 + 3, 9 * 24 + 1, 9 * 24 + 9 * 512 - 1])
    func damagedDirectoryIsRefused(_ at: Int) throws {
        try damaged({ p in p.bytes[p.dirOffset + at] ^= 0x04 }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("directory checksum mismatch") == true, "\(String(describing: e))")
        }
    }

    /// A directory rewritten consistently but pointing a frame beyond the frames, before the
    /// header, or so far that offset + size overflows.
    @Test(arguments: [UInt64(0), 31, UInt64(1) << 63, UInt64.max, UInt64.max - 10])
    func frameOutsideTheFileIsRefused(_ offset: UInt64) throws {
        try damaged({ p in
            p.setEntry(6, offset: offset)
            p.resealDirectory()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.description.contains("cluster 6: frame lies outside the file") == true, "\(String(describing: e))")
        }
        try damaged({ p in
            p.setEntry(6, offset: UInt64(p.dirOffset - 4))
            p.resealDirectory()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.description.contains("cluster 6: frame lies outside the file") == true, "\(String(describing: e))")
        }
    }

    /// A directory (checksums recomputed) claiming more vectors in a cluster than the base has.
    @Test(arguments: [UInt32(2001), 1 << 26, UInt32.max])
    func clusterLargerThanTheBaseIsRefused(_ vectors: UInt32) throws {
        try damaged({ p in
            p.setEntry(2, vectors: vectors)
            p.resealDirectory()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("cluster 2: holds \(vectors) vectors, more than the 2000 of the base") == true, "\(String(describing: e))")
        }
    }

    /// A base count raised to 2^26 with every checksum recomputed, and a cluster claiming all of
    /// them: the index opens, and the fetch refuses the frame without sizing anything from the
    /// claim (the buffers hold what the frame really held, not 2^26 vectors).
    @Test func inflatedClusterIsRefusedWithoutAllocatingIt() throws {
        let claim: UInt32 = 1 << 26
        try damaged({ p in
            p.setBaseCount(claim)
            p.setEntry(2, vectors: claim)
            p.resealDirectory()
        }) { path in
            let idx = try PackedIndex(path: path)
            #expect(idx.vectorCount == Int(claim) && idx.entries[2].vectors == Int(claim))
            let b = ClusterBuffers()
            let e = annError { _ = try idx.fetch(2, into: b) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("cluster 2: zstd frame holds") == true, "\(String(describing: e))")
            #expect(b.heldBytes < 16 << 20, "\(b.heldBytes) bytes held for a frame of \(idx.entries[2].size)")
        }
    }

    /// A frame (checksums recomputed) whose content is not what the directory says: fewer or
    /// more vectors, ids out of order, an id beyond the base.
    @Test func frameContentMustMatchTheDirectory() throws {
        let f = try Self.fixture()
        let c = 3
        let members = f.members[c]
        // The directory claims one vector fewer, then one more, than the frame holds.
        for delta in [-1, 1] {
            try damaged({ p in
                p.setEntry(c, vectors: UInt32(members.count + delta))
                p.resealDirectory()
            }) { path in
                let e = annError { _ = try fetchCluster(try PackedIndex(path: path), c) }
                #expect(e?.description.contains("cluster \(c): zstd frame holds") == true, "\(String(describing: e))")
            }
        }
        // Frames re-encoded from ids that break the rules, everything else intact.
        let vectors = members.flatMap { f.row(Int($0)) }
        var swapped = members
        swapped.swapAt(0, 1)
        var beyond = members
        beyond[beyond.count - 1] = 2000
        var repeated = members
        repeated[1] = repeated[0]
        for (ids, words) in [(swapped, "vector ids do not ascend"), (repeated, "vector ids do not ascend"), (beyond, "vector id 2000 is not below the 2000")] {
            try damaged({ p in p.replaceFrame(c, ids: ids, vectors: vectors, dim: f.dim) }) { path in
                let e = annError { _ = try fetchCluster(try PackedIndex(path: path), c) }
                #expect(e?.exitCode == 65)
                #expect(e?.description.contains("cluster \(c): \(words)") == true, "\(String(describing: e))")
            }
        }
    }

    /// A frame followed by a second frame inside its extent (checksums recomputed) is refused.
    @Test func bytesAfterTheFrameAreRefused() throws {
        let f = try Self.fixture()
        let c = 3
        let members = f.members[c]
        try damaged({ p in
            p.replaceFrame(c, ids: members, vectors: members.flatMap { f.row(Int($0)) }, dim: f.dim, appending: [0x28, 0xB5, 0x2F, 0xFD, 0, 0])
        }) { path in
            let e = annError { _ = try fetchCluster(try PackedIndex(path: path), c) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("cluster \(c): 6 bytes after the end of the zstd frame") == true, "\(String(describing: e))")
        }
    }

    @Test func notAnIndex() throws {
        try withTemporaryDirectory { dir in
            try writeNativeVectors([1, 2, 3, 4], dim: 2, to: "\(dir)/v.annv")
            let e = annError { _ = try PackedIndex(path: "\(dir)/v.annv") }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains("not a packed index") == true, "\(String(describing: e))")
            let m = annError { _ = try PackedIndex(path: "\(dir)/missing.anni") }
            #expect(m?.exitCode == 66)
            let d = annError { _ = try PackedIndex(path: dir) }
            #expect(d?.exitCode == 65)
            #expect(d?.description.contains("not a regular file") == true, "\(String(describing: d))")
        }
    }
}
