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
        var trailer: ArraySlice<UInt8> { bytes[(bytes.count - 32)...] }
        var directory: ArraySlice<UInt8> { bytes[dirOffset..<(bytes.count - 32)] }
        func frame(_ c: Int) -> ArraySlice<UInt8> { bytes[entries[c].offset..<(entries[c].offset + entries[c].size)] }

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            func u32(_ o: Int) -> UInt32 { bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) } }
            func u64(_ o: Int) -> UInt64 { bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) } }
            let k = Int(u32(12)), dir = Int(u64(bytes.count - 32 + 8))
            dim = Int(u32(8))
            self.k = k
            dirOffset = dir
            entries = (0..<k).map { c in
                let o = dir + 24 * c
                return (Int(u64(o)), Int(u32(o + 8)), Int(u32(o + 12)), u32(o + 16), u32(o + 20))
            }
        }

        /// Rewrites the directory CRC in the trailer, so that only deeper checks can notice a change.
        mutating func resealDirectory() {
            let crc = Checksum.crc32c(Array(directory))
            bytes.replaceSubrange((bytes.count - 28)..<(bytes.count - 24), with: Encode.le(crc))
        }

        mutating func setEntry(_ c: Int, offset: Int? = nil, crc: UInt32? = nil) {
            let o = dirOffset + 24 * c
            if let offset { bytes.replaceSubrange(o..<(o + 8), with: Encode.le(UInt64(offset))) }
            if let crc { bytes.replaceSubrange((o + 16)..<(o + 20), with: Encode.le(crc)) }
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
            #expect(idx.layout == .bytePlanes && idx.level == 3)
            #expect(idx.centroids.map(\.bitPattern) == f.centroids.map(\.bitPattern))
            #expect(idx.fingerprint == PackedIndex.fingerprint(centroids: f.centroids, k: 9, dim: 128, metric: .l2))
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
            #expect(Array(t[0..<4]) == Array("ANNT".utf8))
            #expect(Array(t[4..<8]) == Encode.le(Checksum.crc32c(Array(p.directory))))
            let fp = (Encode.le(UInt32(9)) + Encode.le(UInt32(128)) + [1] + Encode.floats(f.centroids)).withUnsafeBytes { Checksum.fnv1a($0) }
            #expect(Array(t[16..<24]) == Encode.le(fp))
            #expect(t[24] == 2 && t[25] == 5)
            #expect(t[26..<32].allSatisfy { $0 == 0 })
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
        let base = PackedIndex.fingerprint(centroids: c, k: 4, dim: 8, metric: .l2)
        #expect(PackedIndex.fingerprint(centroids: c, k: 4, dim: 8, metric: .l2) == base)
        #expect(PackedIndex.fingerprint(centroids: c, k: 4, dim: 8, metric: .ip) != base)
        #expect(PackedIndex.fingerprint(centroids: c, k: 8, dim: 4, metric: .l2) != base)
        var moved = c
        moved[17] = moved[17].nextUp
        #expect(PackedIndex.fingerprint(centroids: moved, k: 4, dim: 8, metric: .l2) != base)
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

    @Test(arguments: [
        (0, 0x20, "no trailer"),
        (3, 0x01, "no trailer"),
        (4, 0x01, "directory checksum mismatch"),
        (8, 0x08, "does not fit"),
        (16, 0x01, "fingerprint"),
        (24, 0x07, "unknown vector layout"),
        (29, 0x01, "reserved trailer bytes"),
    ])
    func badTrailerIsRefused(_ at: Int, _ flip: UInt8, _ words: String) throws {
        try damaged({ p in p.bytes[p.bytes.count - 32 + at] ^= flip }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.exitCode == 65)
            #expect(e?.description.contains(words) == true, "\(String(describing: e))")
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

    /// A directory rewritten consistently but pointing a frame beyond the frames.
    @Test func frameOutsideTheFileIsRefused() throws {
        try damaged({ p in
            p.setEntry(6, offset: p.dirOffset - 4)
            p.resealDirectory()
        }) { path in
            let e = annError { _ = try PackedIndex(path: path) }
            #expect(e?.description.contains("cluster 6: frame lies outside the file") == true, "\(String(describing: e))")
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
