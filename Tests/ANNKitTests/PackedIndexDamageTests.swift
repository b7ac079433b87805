import ANNKit
import Foundation
import Testing

/// A packed index damaged on storage: every kind of damage is found and named, before any
/// number read from the file sizes an allocation.
@Suite struct PackedIndexDamageTests {
    /// Packs the fixture, lets `damage` change the bytes, and writes them back.
    func damaged(_ damage: (inout IndexBytes) -> Void, _ body: (String) throws -> Void) throws {
        let f = try PackedIndexTests.fixture()
        try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            var p = try IndexBytes("\(dir)/i.anni")
            damage(&p)
            try writeBytes(p.bytes, to: "\(dir)/bad.anni")
            try body("\(dir)/bad.anni")
        }
    }

    /// The index damaged by `damage` is refused when opened, as bad data naming `words`.
    func expectOpenRefused(mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation,
                           _ damage: (inout IndexBytes) -> Void) throws {
        try damaged(damage) { path in
            expectRefusal(mentioning: words, sourceLocation: sourceLocation) { _ = try PackedIndex(path: path) }
        }
    }

    /// The index damaged by `damage` opens, and fetching cluster `c` is refused as bad data
    /// naming `words`.
    func expectFetchRefused(_ c: Int, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation,
                            _ damage: (inout IndexBytes) -> Void) throws {
        try damaged(damage) { path in
            let idx = try PackedIndex(path: path)
            expectRefusal(mentioning: words, sourceLocation: sourceLocation) { _ = try fetchCluster(idx, c) }
        }
    }

    /// A flipped byte inside a frame: the index opens, that cluster is refused by name, the
    /// others still read.
    @Test(arguments: [0, 5])
    func flippedByteInAFrameNamesTheCluster(_ c: Int) throws {
        try damaged({ p in p.bytes[p.entries[c].offset + p.entries[c].size / 2] ^= 0x10 }) { path in
            let idx = try PackedIndex(path: path)
            expectRefusal(mentioning: "\(path): cluster \(c): checksum mismatch") { _ = try fetchCluster(idx, c) }
            let other = (c + 1) % 8
            #expect(try fetchCluster(idx, other).ids.count == idx.entries[other].vectors)
        }
    }

    /// A damaged frame whose CRC was recomputed too: zstd's own checks still refuse it.
    @Test func damagedFrameWithMatchingChecksumNamesTheCluster() throws {
        try expectFetchRefused(3, mentioning: "cluster 3") { p in
            p.bytes[p.entries[3].offset + p.entries[3].size - 6] ^= 0xFF
            p.setEntry(3, crc: Checksum.crc32c(Array(p.frame(3))))
            p.resealDirectory()
        }
    }

    @Test(arguments: [0, 16, 32, 63, 1000, -1, -31, -32, -33])
    func truncatedFileIsRefused(_ length: Int) throws {
        try expectOpenRefused(mentioning: "truncated") { p in p.bytes = Array(p.bytes.prefix(length >= 0 ? length : p.bytes.count + length)) }
    }

    /// Bytes lost from the middle, the trailer intact: the directory no longer fits.
    @Test func bytesLostInsideAreFound() throws {
        try expectOpenRefused(mentioning: "the directory does not fit the file") { p in
            p.bytes.removeSubrange(p.entries[2].offset..<(p.entries[2].offset + 10))
        }
    }

    /// Every byte of the trailer is covered: the magic by its check, the rest by the trailer's
    /// CRC (a flip of the layout byte, 2 to 1, once decoded every vector wrongly and exited 0).
    @Test func everyTrailerByteIsCovered() throws {
        try damaged({ _ in }) { path in
            let good = try readBytes(path)
            for at in 0..<48 {
                for flip: UInt8 in [0x01, 0x80] {
                    var b = good
                    b[b.count - 48 + at] ^= flip
                    try writeBytes(b, to: path)
                    expectRefusal(mentioning: at < 4 ? "no trailer" : "trailer checksum mismatch") { _ = try PackedIndex(path: path) }
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
        try expectOpenRefused(mentioning: words) { p in
            p.bytes[p.trailerStart + at] ^= flip
            p.resealTrailer()
        }
    }

    /// Bit 63 of the directory offset once trapped converting to Int; every huge value is refused.
    @Test(arguments: [UInt64(1) << 63, UInt64.max, UInt64(Int.max), UInt64(1) << 40])
    func hugeDirectoryOffsetIsRefused(_ offset: UInt64) throws {
        try expectOpenRefused(mentioning: "the directory does not fit the file") { p in
            p.set(offset, at: p.trailerStart + 8)
            p.resealTrailer()
        }
    }

    /// The base fingerprint is recorded, not checkable from the index alone: a changed one reads.
    @Test func baseFingerprintIsRecorded() throws {
        let f = try PackedIndexTests.fixture()
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
        try expectOpenRefused(mentioning: "directory checksum mismatch") { p in p.bytes[p.dirOffset + at] ^= 0x04 }
    }

    /// A directory rewritten consistently but pointing a frame beyond the frames, before the
    /// header, or so far that offset + size overflows.
    @Test(arguments: [UInt64(0), 31, UInt64(1) << 63, UInt64.max, UInt64.max - 10])
    func frameOutsideTheFileIsRefused(_ offset: UInt64) throws {
        for beyondTheFrames in [false, true] {
            try expectOpenRefused(mentioning: "cluster 6: frame lies outside the file") { p in
                p.setEntry(6, offset: beyondTheFrames ? UInt64(p.dirOffset - 4) : offset)
                p.resealDirectory()
            }
        }
    }

    /// A directory (checksums recomputed) claiming more vectors in a cluster than the base has.
    @Test(arguments: [UInt32(2001), 1 << 26, UInt32.max])
    func clusterLargerThanTheBaseIsRefused(_ vectors: UInt32) throws {
        try expectOpenRefused(mentioning: "cluster 2: holds \(vectors) vectors, more than the 2000 of the base") { p in
            p.setVectors(vectors, ofCluster: 2)
        }
    }

    /// A base count raised to 2^26 with every checksum recomputed, and a cluster claiming all of
    /// them: the index opens, and the fetch refuses the frame without sizing anything from the
    /// claim (the buffers hold what the frame really held, not 2^26 vectors).
    @Test func inflatedClusterIsRefusedWithoutAllocatingIt() throws {
        let claim: UInt32 = 1 << 26
        try damaged({ p in
            p.setBaseCount(claim)
            p.setVectors(claim, ofCluster: 2)
        }) { path in
            let idx = try PackedIndex(path: path)
            #expect(idx.vectorCount == Int(claim) && idx.entries[2].vectors == Int(claim))
            let b = ClusterBuffers()
            expectRefusal(mentioning: "cluster 2: zstd frame holds") { _ = try idx.fetch(2, into: b) }
            #expect(b.heldBytes < 16 << 20, "\(b.heldBytes) bytes held for a frame of \(idx.entries[2].size)")
        }
    }

    /// A frame (checksums recomputed) whose content is not what the directory says: fewer or
    /// more vectors, ids out of order, an id beyond the base.
    @Test func frameContentMustMatchTheDirectory() throws {
        let f = try PackedIndexTests.fixture()
        let c = 3
        let members = f.members[c]
        // The directory claims one vector fewer, then one more, than the frame holds.
        for delta in [-1, 1] {
            try expectFetchRefused(c, mentioning: "cluster \(c): zstd frame holds") { p in p.setVectors(UInt32(members.count + delta), ofCluster: c) }
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
            try expectFetchRefused(c, mentioning: "cluster \(c): \(words)") { p in p.replaceFrame(c, ids: ids, vectors: vectors) }
        }
    }

    /// A frame followed by a second frame inside its extent (checksums recomputed) is refused.
    @Test func bytesAfterTheFrameAreRefused() throws {
        let f = try PackedIndexTests.fixture()
        let members = f.members[3]
        try expectFetchRefused(3, mentioning: "cluster 3: 6 bytes after the end of the zstd frame") { p in
            p.replaceFrame(3, ids: members, vectors: members.flatMap { f.row(Int($0)) }, appending: [0x28, 0xB5, 0x2F, 0xFD, 0, 0])
        }
    }

    @Test func notAnIndex() throws {
        try withTemporaryDirectory { dir in
            try writeNativeVectors([1, 2, 3, 4], dim: 2, to: "\(dir)/v.annv")
            expectRefusal(mentioning: "not a packed index") { _ = try PackedIndex(path: "\(dir)/v.annv") }
            expectRefusal(status: 66) { _ = try PackedIndex(path: "\(dir)/missing.anni") }
            expectRefusal(mentioning: "not a regular file") { _ = try PackedIndex(path: dir) }
        }
    }
}
