import Glibc

/// Builds a packed index (ann-formats(5), ANNI) from a base that streams past once: vectors
/// are bucketed by cluster in memory up to a budget, spilled to an unlinked temporary file
/// beyond it, and finally each cluster is gathered, encoded, compressed (on all cores) and
/// written as its own zstd frame, in cluster order.
public final class IndexWriter {
    public struct Report: Sendable {
        public var clusters = 0
        /// Distinct vectors.
        public var vectors = 0
        /// Stored copies (vectors plus duplicates).
        public var copies = 0
        /// Frame contents before compression, and the frames after.
        public var rawBytes = 0
        public var packedBytes = 0
        public var fileBytes = 0
        public var clusterSizes: [Int] = []
    }

    private let output: OutputFile
    private let dim: Int
    private let type: ElementType
    private let metric: Metric
    private let centroids: [Float]
    private let level: Int
    private let layout: ClusterFrame.Layout
    private let budget: Int
    private var bufIDs: [[UInt32]]
    private var bufBytes: [[UInt8]]
    private var buffered = 0
    /// Per cluster, the spilled runs: (offset in the spill file, vectors).
    private var runs: [[(offset: Int, count: Int)]]
    private var spill: ByteSink?
    private var spillFD: Int32 = -1
    private var report = Report()
    private var lastID = -1

    /// `centroids` are in the form the index stores (`Fingerprint.storedCentroids`: unit length
    /// for ip and cos). `budget` bounds the bytes of vectors held in memory before spilling.
    public init(output: OutputFile, dim: Int, type: ElementType, metric: Metric, centroids: [Float], level: Int,
                budget: Int = IndexPacker.defaultMemoryMiB << 20) {
        let k = centroids.count / dim
        self.output = output
        self.dim = dim
        self.type = type
        self.metric = metric
        self.centroids = centroids
        self.level = level
        layout = ClusterFrame.Layout.preferred(for: type)
        self.budget = budget
        bufIDs = Array(repeating: [], count: k)
        bufBytes = Array(repeating: [], count: k)
        runs = Array(repeating: [], count: k)
        report.clusters = k
    }

    deinit { if spillFD >= 0 { Glibc.close(spillFD) } }

    /// Adds vector `id` (ids ascending) in its stored form to each of `clusters`.
    public func add(id: Int, raw: UnsafeRawPointer, clusters: ArraySlice<UInt32>) throws {
        precondition(id > lastID)
        lastID = id
        let rb = dim * type.size
        report.vectors += 1
        for c in clusters {
            let ci = Int(c)
            bufIDs[ci].append(UInt32(id))
            bufBytes[ci].append(contentsOf: UnsafeRawBufferPointer(start: raw, count: rb))
            buffered += rb + 4
            report.copies += 1
        }
        if buffered > budget { try spillAll() }
    }

    private func spillAll() throws {
        if spill == nil {
            let (fd, dir) = try TemporaryFiles.process.anonymous(for: "spill file", prefix: "ann-pack-spill")
            spillFD = fd
            spill = ByteSink(fd: fd, name: "spill file in \(dir)")
        }
        for c in 0..<bufIDs.count where !bufIDs[c].isEmpty {
            runs[c].append((spill!.offset, bufIDs[c].count))
            try bufIDs[c].withUnsafeBytes { try spill!.write($0) }
            try spill!.write(bufBytes[c])
            bufIDs[c].removeAll(keepingCapacity: true)
            bufBytes[c].removeAll(keepingCapacity: true)
        }
        try spill!.flush()
        buffered = 0
    }

    /// Gathers cluster `c` (spilled runs, then what is in memory) as ids and stored vectors.
    private func gather(_ c: Int) throws -> (ids: [UInt32], bytes: [UInt8]) {
        let rb = dim * type.size
        var ids = [UInt32]()
        var bytes = [UInt8]()
        for run in runs[c] {
            var chunk = [UInt8](repeating: 0, count: run.count * (4 + rb))
            let r = chunk.withUnsafeMutableBytes { Glibc.pread(spillFD, $0.baseAddress, $0.count, off_t(run.offset)) }
            guard r == chunk.count else { throw ANNError.io(target: "spill file", message: "read failed: \(errnoText(errno))") }
            chunk.withUnsafeBytes { b in
                ids.append(contentsOf: UnsafeBufferPointer(start: b.baseAddress!.assumingMemoryBound(to: UInt32.self), count: run.count))
            }
            bytes.append(contentsOf: chunk[(run.count * 4)...])
        }
        ids.append(contentsOf: bufIDs[c])
        bytes.append(contentsOf: bufBytes[c])
        return (ids, bytes)
    }

    /// Compresses and writes every cluster, the directory and the trailer. `baseFingerprint` is
    /// the `BaseFingerprint` of the base the vectors came from (`VectorReader.fingerprint`), which
    /// the trailer records with the base's count. `progress` receives the clusters written so far.
    public func finish(baseFingerprint: UInt64, progress: (Int) -> Void = { _ in }) throws -> Report {
        if spill != nil { try spillAll() }
        let file = try IndexFileWriter(sink: output.sink, dim: dim, type: type, metric: metric, layout: layout, level: level,
                                       centroids: centroids, vectors: report.vectors)
        try file.appendAll(progress: progress) { c in
            let (ids, bytes) = try gather(c)
            bufIDs[c] = []
            bufBytes[c] = []
            return .content(.init(ids: ids, bytes: bytes))
        }
        return try file.finish(baseFingerprint: baseFingerprint)
    }
}
