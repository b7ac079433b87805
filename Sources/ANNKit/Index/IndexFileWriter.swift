/// The bytes of a packed index (ann-formats(5), ANNI) as they are written: the header, one
/// zstd frame per cluster in cluster order, the directory with the centroids, the trailer.
/// `IndexWriter` (from a base) and `IndexRewriter` (from an index) both write through it, so
/// the same clusters give the same bytes whichever built them.
final class IndexFileWriter {
    /// One cluster's content before encoding: ascending ids and their vectors as stored.
    struct Cluster {
        var ids: [UInt32]
        var bytes: [UInt8]
    }

    let sink: ByteSink
    let dim: Int
    let type: ElementType
    let metric: Metric
    let layout: ClusterFrame.Layout
    let level: Int
    /// `clusterCount × dim` float32, in the form the index stores them.
    let centroids: [Float]
    private var entries: [UInt8]
    private(set) var written = 0
    private(set) var report = IndexWriter.Report()

    var clusterCount: Int { centroids.count / dim }

    /// Writes the header: `vectors` distinct vectors, at most 32-bit ids.
    init(sink: ByteSink, dim: Int, type: ElementType, metric: Metric, layout: ClusterFrame.Layout, level: Int,
         centroids: [Float], vectors: Int) throws {
        guard vectors <= Int(UInt32.max) else {
            throw ANNError.badData(source: sink.name, message: "\(vectors) vectors are more than 32-bit ids can name")
        }
        self.sink = sink
        self.dim = dim
        self.type = type
        self.metric = metric
        self.layout = layout
        self.level = level
        self.centroids = centroids
        let k = centroids.count / dim
        entries = [UInt8](repeating: 0, count: k * PackedIndex.entrySize)
        report.clusters = k
        report.vectors = vectors
        try sink.write(StreamHeader(kind: .index, elementType: type, metric: metric, dim: dim, aux: UInt32(k), count: vectors).encoded())
    }

    /// The next cluster: a frame already compressed (copied from another index as it is),
    /// or content to encode and compress.
    enum Frame {
        case compressed([UInt8], vectors: Int)
        case content(Cluster)
    }

    /// Writes every cluster's frame in cluster order, asking `frame(c)` for each, a window of
    /// clusters at a time: enough to keep every core compressing, few enough that only a sliver
    /// of the index is held at once. With `concurrently`, `frame` is called on the workers
    /// (it must then be safe to call for different clusters at once), so that gathering a
    /// cluster overlaps compressing others. `progress` receives the clusters written so far.
    func appendAll(progress: (Int) -> Void, concurrently: Bool = false, _ frame: (Int) throws -> Frame) throws {
        let k = clusterCount, window = 32
        var c0 = written
        while c0 < k {
            let c1 = min(k, c0 + window)
            if concurrently {
                try append(count: c1 - c0) { try frame(c0 + $0) }
            } else {
                let frames = try (c0..<c1).map(frame)
                try append(count: frames.count) { frames[$0] }
            }
            c0 = c1
            progress(c0)
        }
    }

    /// Appends the next `count` clusters' frames in order, `make(i)` giving the i-th: each made,
    /// compressed if given as content, and checksummed on the worker that takes it.
    private func append(count: Int, make: (Int) throws -> Frame) throws {
        var out = [(bytes: [UInt8], vectors: Int, crc: UInt32)](repeating: ([], 0, 0), count: count)
        try out.withUnsafeMutableBufferPointer { fr in
            try Parallel.queue(items: count, workers: min(Machine.cores, count)) { i, _ in
                switch try make(i) {
                case .compressed(let bytes, let n): fr[i] = (bytes, n, Checksum.crc32c(bytes))
                case .content(let cluster):
                    let bytes: [UInt8]
                    do {
                        bytes = try encode(cluster)
                    } catch {
                        throw error as? ANNError ?? .io(target: "zstd", message: "\(error)")
                    }
                    fr[i] = (bytes, cluster.ids.count, Checksum.crc32c(bytes))
                }
            }
        }
        for f in out { try append(frame: f.bytes, vectors: f.vectors, crc: f.crc) }
    }

    /// Appends the next cluster's frame as it is: compressed bytes holding `vectors` vectors,
    /// whose CRC-32C is `crc`.
    func append(frame: [UInt8], vectors: Int, crc: UInt32) throws {
        let o = written * PackedIndex.entrySize
        entries.storeLE(UInt64(sink.offset), at: o)
        entries.storeLE(UInt32(frame.count), at: o + 8)
        entries.storeLE(UInt32(vectors), at: o + 12)
        entries.storeLE(crc, at: o + 16)
        try sink.write(frame)
        report.rawBytes += ClusterFrame.byteCount(vectors: vectors, dim: dim, type: type)
        report.packedBytes += frame.count
        report.copies += vectors
        report.clusterSizes.append(vectors)
        written += 1
    }

    /// Writes the directory and the trailer once every cluster has its frame.
    func finish(baseFingerprint: UInt64) throws -> IndexWriter.Report {
        precondition(written == clusterCount)
        let dirOffset = sink.offset
        var dir = entries
        centroids.withUnsafeBytes { dir.append(contentsOf: $0) }
        try sink.write(dir)
        var trailer = [UInt8](repeating: 0, count: PackedIndex.trailerSize)
        trailer.replaceSubrange(0..<4, with: PackedIndex.trailerMagic)
        trailer.storeLE(Checksum.crc32c(dir), at: 4)
        trailer.storeLE(UInt64(dirOffset), at: 8)
        trailer.storeLE(Fingerprint.clustering(storedCentroids: centroids, dim: dim, metric: metric), at: 16)
        trailer.storeLE(baseFingerprint, at: 24)
        trailer[32] = layout.rawValue
        trailer[33] = UInt8(clamping: min(level, PackedIndex.maxLevel))
        trailer.storeLE(UInt32(report.vectors), at: 40)
        trailer.storeLE(Checksum.crc32c(Array(trailer[0..<PackedIndex.trailerChecksumOffset])), at: PackedIndex.trailerChecksumOffset)
        try sink.write(trailer)
        report.fileBytes = sink.offset
        return report
    }

    private func encode(_ cluster: Cluster) throws -> [UInt8] {
        let n = cluster.ids.count
        let size = ClusterFrame.byteCount(vectors: n, dim: dim, type: type)
        let content = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
        defer { content.deallocate() }
        cluster.ids.withUnsafeBufferPointer { ids in
            cluster.bytes.withUnsafeBytes { v in
                ClusterFrame.encode(ids: ids.baseAddress ?? UnsafePointer(content.assumingMemoryBound(to: UInt32.self)),
                                    vectors: v.baseAddress ?? UnsafeRawPointer(content), n: n,
                                    dim: dim, type: type, layout: layout, into: content)
            }
        }
        var out = [UInt8]()
        try Zstd.compress(UnsafeRawBufferPointer(start: content, count: size), level: level, into: &out)
        return out
    }
}
