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
            let p = try IndexBytes("\(dir)/i.anni")
            #expect(Array(p.bytes.prefix(32)) == Encode.header(magic: "ANNI", type: 1, metric: 1, dim: 128, aux: 9, count: 2000))
            #expect(p.clusterCount == 9 && p.dim == 128)
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
}
