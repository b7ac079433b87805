import ANNKit
import Synchronization
import Testing

/// An object held in memory, as a remote store would serve it: every read is counted, and a
/// read of `failing` throws as a failed request would.
final class MemoryObject: RangeReadable {
    let name: String
    let bytes: [UInt8]
    let failing: Range<Int>?
    private let reads = Mutex<[Range<Int>]>([])

    init(name: String, bytes: [UInt8], failing: Range<Int>? = nil) {
        self.name = name
        self.bytes = bytes
        self.failing = failing
    }

    var size: Int { bytes.count }
    var log: [Range<Int>] { reads.withLock { $0 } }

    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        reads.withLock { $0.append(range) }
        if let f = failing, f.overlaps(range) { throw ANNError.io(target: name, message: "read failed: connection reset") }
        let end = min(range.upperBound, bytes.count)
        guard end > range.lowerBound else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + range.lowerBound, byteCount: end - range.lowerBound) }
        return end - range.lowerBound
    }
}

/// An object that ends at `cut` although it claims the size of `inner`, as a store whose
/// object changed under the reader would.
final class Shortened: RangeReadable {
    let inner: MemoryObject
    let cut: Int

    init(_ inner: MemoryObject, cut: Int) {
        self.inner = inner
        self.cut = cut
    }

    var name: String { inner.name }
    var size: Int { inner.size }

    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let got = try inner.read(range, into: buffer)
        return range.contains(cut) ? cut - range.lowerBound : got
    }
}

/// `inner`, read as a remote store is: many ranges in one call, close ones coalesced.
final class Concurrent: RangeReadable {
    let inner: MemoryObject
    private let count = Mutex(0)
    init(_ inner: MemoryObject) { self.inner = inner }
    var name: String { inner.name }
    var size: Int { inner.size }
    var readsConcurrently: Bool { true }
    var coalescingGap: Int? { 1 << 14 }
    var calls: Int { count.withLock { $0 } }

    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try read(ranges: [range], into: [buffer])[0]
    }

    func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int] {
        count.withLock { $0 += 1 }
        return try zip(ranges, buffers).map { try inner.read($0, into: $1) }
    }
}

/// The packed index reads through `RangeReadable` alone: from memory it is the index it is
/// from the file, each fetch is one read of exactly its frame, and what the storage reports
/// (a failure, a short read) comes back in the index's words.
@Suite struct PackedIndexStorageTests {
    func withPacked<T>(_ body: (String, [UInt8]) throws -> T) throws -> T {
        let f = try PackedIndexTests.fixture()
        return try withTemporaryDirectory { dir in
            try f.pack(to: "\(dir)/i.anni")
            return try body("\(dir)/i.anni", try readBytes("\(dir)/i.anni"))
        }
    }

    @Test func fromMemoryItIsTheIndexOfTheFile() throws {
        try withPacked { path, bytes in
            let file = try PackedIndex(path: path)
            let object = MemoryObject(name: "mem://i.anni", bytes: bytes)
            let memory = try PackedIndex(storage: object)
            #expect(memory.name == "mem://i.anni" && file.name == path)
            #expect(memory.centroids == file.centroids && memory.fingerprint == file.fingerprint)
            #expect(memory.entries.map(\.offset) == file.entries.map(\.offset) && memory.entries.map(\.crc) == file.entries.map(\.crc))
            // Opening reads the header, the trailer and the directory, nothing else.
            let trailerAt = bytes.count - PackedIndex.trailerSize
            #expect(object.log == [0..<StreamHeader.size, trailerAt..<bytes.count, file.entries.last!.offset + file.entries.last!.size..<trailerAt])
            for c in 0..<file.clusterCount {
                let a = try fetchCluster(memory, c), b = try fetchCluster(file, c)
                #expect(a.ids == b.ids && a.vectors == b.vectors, "cluster \(c)")
                let e = file.entries[c]
                #expect(object.log.last == e.offset..<(e.offset + e.size), "cluster \(c) is one read of its frame")
            }
        }
    }

    @Test func aFailedReadNamesTheClusterAndIsAnIOError() throws {
        try withPacked { _, bytes in
            let probe = try PackedIndex(storage: MemoryObject(name: "mem://i.anni", bytes: bytes))
            let e = probe.entries[4]
            let idx = try PackedIndex(storage: MemoryObject(name: "mem://i.anni", bytes: bytes, failing: e.offset..<(e.offset + 1)))
            let err = annError { _ = try fetchCluster(idx, 4) }
            #expect(err == .io(target: "mem://i.anni", message: "cluster 4: read failed: connection reset"))
            #expect(err?.exitCode == 74)
            #expect(try fetchCluster(idx, 3).ids.count == idx.entries[3].vectors)
        }
    }

    /// A storage that ends early (an object shorter than it said) gives the messages of a
    /// truncated file.
    @Test func shortReadsAreTruncation() throws {
        try withPacked { _, bytes in
            let full = try PackedIndex(storage: MemoryObject(name: "m", bytes: bytes))
            let e = full.entries[2]
            let frameCut = try PackedIndex(storage: Shortened(MemoryObject(name: "m", bytes: bytes), cut: e.offset + 10))
            let frameError = annError { _ = try fetchCluster(frameCut, 2) }
            #expect(frameError == .badData(source: "m", message: "cluster 2: truncated frame (10 of \(e.size) bytes)"))
            let headerCut = annError { _ = try PackedIndex(storage: Shortened(MemoryObject(name: "m", bytes: bytes), cut: 7)) }
            #expect(headerCut == .badData(source: "m", message: "truncated index (short read at offset 0)"))
        }
    }

    /// A store that reads many ranges at once (a remote one) is asked for a search's frames in
    /// one call, and answers exactly as the file does; per-query requests count its coalescing.
    @Test func aConcurrentStoreIsReadInOneWavePerSearch() throws {
        try withPacked { path, bytes in
            let file = try PackedIndex(path: path)
            let object = Concurrent(MemoryObject(name: "mem://i.anni", bytes: bytes))
            let remote = try PackedIndex(storage: object)
            let q = Array(try SampleData.siftQueries().values.prefix(20 * 128))
            let engine = { (idx: PackedIndex) in
                QueryEngine(index: idx, router: CentroidRouter(centroids: idx.centroids, dim: idx.dim, metric: idx.metric), threads: 2)
            }
            let p = SearchParameters(probe: .nprobe(3))
            let (a, sa) = try engine(file).search(queries: q, k: 10, parameters: p)
            let calls = object.calls
            let (b, sb) = try engine(remote).search(queries: q, k: 10, parameters: p)
            #expect(a.ids == b.ids && a.distances == b.distances)
            #expect(object.calls == calls + 1, "one wave for the whole batch")
            #expect(sa.map(\.requests) == sa.map(\.clusters) && sb.allSatisfy { $0.requests >= 1 && $0.requests <= $0.clusters })
            #expect(sa.map(\.vectors) == sb.map(\.vectors) && sa.map(\.bytes) == sb.map(\.bytes))
        }
    }

    /// Without a batch of its own, a backend serves several ranges one read after another.
    @Test func batchReadsDefaultToSingleReads() throws {
        let object = MemoryObject(name: "m", bytes: Array(0..<100))
        var a = [UInt8](repeating: 0, count: 5), b = [UInt8](repeating: 0, count: 20)
        let got = try a.withUnsafeMutableBytes { pa in
            try b.withUnsafeMutableBytes { pb in try object.read(ranges: [10..<15, 90..<110], into: [pa, pb]) }
        }
        #expect(got == [5, 10] && a == [10, 11, 12, 13, 14] && Array(b.prefix(10)) == Array(90..<100))
        #expect(object.log == [10..<15, 90..<110])
    }

    /// The local file: reads by range up to its end, and refuses what has no size.
    @Test func localFileReadsRanges() throws {
        try withTemporaryDirectory { dir in
            try writeBytes(Array(0..<50), to: "\(dir)/f")
            let file = try LocalFile(path: "\(dir)/f")
            #expect(file.size == 50 && file.name == "\(dir)/f")
            var buf = [UInt8](repeating: 0, count: 20)
            #expect(try buf.withUnsafeMutableBytes { try file.read(40..<60, into: $0) } == 10)
            #expect(Array(buf.prefix(10)) == Array(40..<50))
            expectRefusal(mentioning: "\(dir): not a regular file") { _ = try LocalFile(path: dir) }
            expectRefusal(status: 66) { _ = try LocalFile(path: "\(dir)/missing") }
        }
    }
}
