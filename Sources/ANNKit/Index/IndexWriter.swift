import Glibc

/// Builds a packed index (ann-formats(5), ANNI) from a base that streams past once: vectors
/// are staged in memory up to a budget, then grouped by cluster (a counting sort) and spilled
/// to an unlinked temporary file as one run per cluster; finally each cluster is gathered
/// from its runs, encoded, compressed (on all cores) and written as its own zstd frame, in
/// cluster order.
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
    private let k: Int
    /// Bytes of one stored vector.
    private let rb: Int
    /// The vectors added since the last spill, one copy each, up to `vectorCapacity`; and per
    /// (vector, cluster) pair its id, its row in `stagedBytes` and the cluster, up to
    /// `pairCapacity`. Flat buffers allocated once: adding a vector is two copies and no
    /// allocation, however many clusters there are.
    private let stagedBytes: UnsafeMutableRawPointer
    private let vectorCapacity: Int
    private var pairCapacity: Int
    private var stagedIDs: UnsafeMutablePointer<UInt32>
    private var stagedRows: UnsafeMutablePointer<UInt32>
    private var stagedClusters: UnsafeMutablePointer<UInt32>
    private var vectorsStaged = 0
    private var pairsStaged = 0
    /// Per cluster, the spilled runs: (offset in the spill file, vectors).
    private var runs: [[(offset: Int, count: Int)]]
    /// The last stage, ordered by cluster once the base has been read: pair numbers grouped
    /// by cluster (`order`), cluster c's from `start[c]` to `start[c + 1]`.
    private var order = [Int]()
    private var start = [Int]()
    private var spill: ByteSink?
    private var spillFD: Int32 = -1
    private var report = Report()
    private var lastID = -1

    /// `centroids` are in the form the index stores (`Fingerprint.storedCentroids`: unit length
    /// for ip and cos). `budget` bounds the bytes of vectors held in memory before spilling.
    public init(output: OutputFile, dim: Int, type: ElementType, metric: Metric, centroids: [Float], level: Int,
                budget: Int = IndexPacker.defaultMemoryMiB << 20) {
        k = centroids.count / dim
        self.output = output
        self.dim = dim
        self.type = type
        self.metric = metric
        self.centroids = centroids
        self.level = level
        layout = ClusterFrame.Layout.preferred(for: type)
        rb = dim * type.size
        // A pair costs 12 bytes; room for two clusters per vector before a spill is forced.
        vectorCapacity = max(1, budget / (rb + 24))
        pairCapacity = 2 * vectorCapacity
        stagedBytes = .allocate(byteCount: vectorCapacity * rb, alignment: 64)
        stagedIDs = .allocate(capacity: pairCapacity)
        stagedRows = .allocate(capacity: pairCapacity)
        stagedClusters = .allocate(capacity: pairCapacity)
        runs = Array(repeating: [], count: k)
        report.clusters = k
    }

    deinit {
        if spillFD >= 0 { Glibc.close(spillFD) }
        stagedBytes.deallocate()
        stagedIDs.deallocate()
        stagedRows.deallocate()
        stagedClusters.deallocate()
    }

    /// Adds vector `id` (ids ascending) in its stored form to each of `clusters`.
    public func add(id: Int, raw: UnsafeRawPointer, clusters: ArraySlice<UInt32>) throws {
        precondition(id > lastID)
        lastID = id
        if vectorsStaged == vectorCapacity || pairsStaged + clusters.count > pairCapacity { try spillStage() }
        if clusters.count > pairCapacity { growPairs(to: clusters.count) }
        report.vectors += 1
        let row = vectorsStaged
        (stagedBytes + row * rb).copyMemory(from: raw, byteCount: rb)
        vectorsStaged += 1
        for c in clusters {
            stagedIDs[pairsStaged] = UInt32(id)
            stagedRows[pairsStaged] = UInt32(row)
            stagedClusters[pairsStaged] = c
            pairsStaged += 1
        }
        report.copies += clusters.count
    }

    /// Room for `n` pairs, for a vector in more clusters than a stage holds (the stage is empty).
    private func growPairs(to n: Int) {
        stagedIDs.deallocate()
        stagedRows.deallocate()
        stagedClusters.deallocate()
        pairCapacity = n
        stagedIDs = .allocate(capacity: n)
        stagedRows = .allocate(capacity: n)
        stagedClusters = .allocate(capacity: n)
    }

    /// Groups the staged pairs by cluster (a counting sort, stable, so ids stay ascending).
    private func orderStage() {
        start = [Int](repeating: 0, count: k + 1)
        for p in 0..<pairsStaged { start[Int(stagedClusters[p]) + 1] += 1 }
        for c in 0..<k { start[c + 1] += start[c] }
        order = [Int](repeating: 0, count: pairsStaged)
        var next = start
        for p in 0..<pairsStaged {
            let c = Int(stagedClusters[p])
            order[next[c]] = p
            next[c] += 1
        }
    }

    /// Writes the stage to the spill file as one run per cluster (ids, then vectors) and empties it.
    private func spillStage() throws {
        guard pairsStaged > 0 else { return }
        if spill == nil {
            let (fd, dir) = try TemporaryFiles.process.anonymous(for: "spill file", prefix: "ann-pack-spill")
            spillFD = fd
            spill = ByteSink(fd: fd, name: "spill file in \(dir)")
        }
        orderStage()
        let sink = spill!
        var ids = [UInt32]()
        for c in 0..<k where start[c + 1] > start[c] {
            let members = order[start[c]..<start[c + 1]]
            runs[c].append((sink.offset, members.count))
            ids.removeAll(keepingCapacity: true)
            for p in members { ids.append(stagedIDs[p]) }
            try ids.withUnsafeBytes { try sink.write($0) }
            for p in members { try sink.write(UnsafeRawBufferPointer(start: stagedBytes + Int(stagedRows[p]) * rb, count: rb)) }
        }
        try sink.flush()
        vectorsStaged = 0
        pairsStaged = 0
    }

    /// Gathers cluster `c` (spilled runs, then the last stage) as ids and stored vectors.
    private func gather(_ c: Int) throws -> (ids: [UInt32], bytes: [UInt8]) {
        let staged = order[start[c]..<start[c + 1]]
        let n = runs[c].reduce(staged.count) { $0 + $1.count }
        var ids = [UInt32](repeating: 0, count: n)
        var bytes = [UInt8](repeating: 0, count: n * rb)
        var at = 0
        try ids.withUnsafeMutableBytes { idb in
            try bytes.withUnsafeMutableBytes { vb in
                for run in runs[c] {
                    try readSpill(into: idb.baseAddress! + at * 4, count: run.count * 4, at: run.offset)
                    try readSpill(into: vb.baseAddress! + at * rb, count: run.count * rb, at: run.offset + run.count * 4)
                    at += run.count
                }
                for p in staged {
                    idb.storeBytes(of: stagedIDs[p], toByteOffset: at * 4, as: UInt32.self)
                    (vb.baseAddress! + at * rb).copyMemory(from: stagedBytes + Int(stagedRows[p]) * rb, byteCount: rb)
                    at += 1
                }
            }
        }
        return (ids, bytes)
    }

    private func readSpill(into dest: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let r = Glibc.pread(spillFD, dest + done, count - done, off_t(offset + done))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { throw ANNError.io(target: "spill file", message: "read failed: \(r < 0 ? errnoText(errno) : "unexpected end")") }
            done += r
        }
    }

    /// Compresses and writes every cluster, the directory and the trailer. `baseFingerprint` is
    /// the `BaseFingerprint` of the base the vectors came from (`VectorReader.fingerprint`), which
    /// the trailer records with the base's count. `progress` receives the clusters written so far.
    public func finish(baseFingerprint: UInt64, progress: (Int) -> Void = { _ in }) throws -> Report {
        orderStage()
        let file = try IndexFileWriter(sink: output.sink, dim: dim, type: type, metric: metric, layout: layout, level: level,
                                       centroids: centroids, vectors: report.vectors)
        // Gathering reads the runs and the last stage, which no longer change: on the workers.
        try file.appendAll(progress: progress, concurrently: true) { c in
            let (ids, bytes) = try gather(c)
            return .content(.init(ids: ids, bytes: bytes))
        }
        return try file.finish(baseFingerprint: baseFingerprint)
    }
}
