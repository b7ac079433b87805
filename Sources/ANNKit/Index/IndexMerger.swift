/// The index of a whole base from the indexes of its consecutive slices (`ann-pack --shard`,
/// each the index of its slice as a base of its own, ids from 0): cluster by cluster, the
/// slices' vectors in order with their ids moved to the whole base's, at the slices' zstd level.
/// The result is the index one `ann-pack` of the whole base makes, byte for byte. The base is
/// read once, in order, for its fingerprint: each slice's index must be of exactly its records,
/// and the trailer records the whole base's. Memory: one cluster and one block of the base.
public enum IndexMerger {
    public static func write(parts: [PackedIndex], base: VectorReader, to output: OutputFile,
                             progress: (Int) -> Void = { _ in }) throws -> IndexWriter.Report {
        guard let first = parts.first else { throw ANNError.usage("nothing to merge") }
        let d = first.dim, type = first.elementType
        for p in parts.dropFirst() {
            guard p.fingerprint == first.fingerprint, p.dim == d, p.elementType == type, p.metric == first.metric,
                  p.layout == first.layout, p.level == first.level, p.centroids == first.centroids else {
                throw ANNError.badData(source: p.name, message: "another clustering, form or level than \(first.name): not slices of one pack")
            }
        }
        try check(parts: parts, against: base)
        let whole = parts.reduce(0) { $0 + $1.vectorCount }
        var starts = [0]
        for p in parts { starts.append(starts.last! + p.vectorCount) }
        let rb = d * type.size
        let buffers = ClusterBuffers()
        let file = try IndexFileWriter(sink: output.sink, dim: d, type: type, metric: first.metric, layout: first.layout,
                                       level: first.level, centroids: first.centroids, vectors: whole)
        try file.appendAll(progress: progress) { c in
            var cluster = IndexFileWriter.Cluster(ids: [], bytes: [])
            for (i, p) in parts.enumerated() {
                let m = try p.fetch(c, into: buffers)
                let offset = cluster.bytes.count
                cluster.bytes.append(contentsOf: repeatElement(0, count: m * rb))
                for row in 0..<m {
                    cluster.ids.append(UInt32(starts[i] + Int(buffers.ids[row])))
                    IndexRewriter.copyStored(buffers.floats + row * d, d: d, type: type, into: &cluster.bytes, at: offset + row * rb)
                }
            }
            return .content(cluster)
        }
        return try file.finish(baseFingerprint: base.fingerprint!)
    }

    /// Reads `base` to its end, fingerprinting it whole and slice by slice: slice i holds the
    /// next `parts[i].vectorCount` records, whose fingerprint must be the one its index records.
    private static func check(parts: [PackedIndex], against base: VectorReader) throws {
        base.fingerprinting = true
        let block = 1 << 14, rb = base.recordBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: block * rb, alignment: 16)
        defer { buffer.deallocate() }
        for p in parts {
            guard p.dim == base.dim, p.elementType == base.elementType else {
                throw ANNError.badData(source: p.name, message: "an index of \(p.dim)-d \(p.elementType.name) vectors; the base \(base.name) holds \(base.dim)-d \(base.elementType.name)")
            }
            var slice = BaseFingerprint(elementType: base.elementType, dim: base.dim)
            var left = p.vectorCount
            while left > 0 {
                let n = try base.readRaw(into: buffer, maxCount: min(block, left))
                guard n > 0 else { throw ANNError.badData(source: base.name, message: "ends before the slices do: not the base they were packed from") }
                slice.update(UnsafeRawBufferPointer(start: buffer, count: n * rb))
                left -= n
            }
            guard slice.value == p.baseFingerprint else {
                throw ANNError.badData(source: p.name, message: "not the index of records \(base.recordsRead - p.vectorCount)..<\(base.recordsRead) of \(base.name): the slices are of another base, or out of order")
            }
        }
        guard try base.readRaw(into: buffer, maxCount: 1) == 0 else {
            throw ANNError.badData(source: base.name, message: "holds more vectors than the slices: not the base they were packed from")
        }
    }
}
