/// Packs a base into an index by an assignment made for it. The base is read once, in order,
/// and merge-joined with the assignment (pairs sorted by vector), every vector handed to the
/// index writer with its clusters; nothing but the writer's buckets is held.
///
/// Whether the three inputs belong together is checked as early as each can be: a native
/// assignment names the clustering and the base it was made for, so a mismatch is refused
/// before anything is read (the base's fingerprint once it has been read); a foreign one names
/// neither, so the nearest-centroid check of a sample of its vectors is all that can vouch
/// for it.
public final class IndexPacker {
    /// What packing reports while it runs; the command layer decides what to draw.
    public enum Event: Sendable {
        /// Base vectors read and staged so far, of `total` where the base tells.
        case staged(Int, total: Int?)
        /// The whole base has been read: `vectors` of it, every one in at least one cluster.
        case read(vectors: Int)
        /// Clusters compressed and written so far, of `total`.
        case packed(Int, total: Int)
    }

    /// The zstd level frames are compressed at unless asked otherwise: higher levels pack
    /// much more slowly and barely change unpacking.
    public static let defaultLevel = 3
    /// MiB of vectors staged in memory before the writer spills them to a temporary file.
    public static let defaultMemoryMiB = 64

    public let assignment: Assignment
    public let dim: Int
    public let metric: Metric
    /// The centroids as the index stores them (unit length for ip and cos).
    public let storedCentroids: [Float]
    /// The names of the assignment and the centroids in messages.
    public let assignmentName: String
    public let centroidsName: String
    private var sample: NearestCentroidCheck?
    private var checked: ObjectIdentifier?

    /// `centroids` are `k × dim` as a clustering produced them; the assignment must be for
    /// `k` clusters.
    public init(centroids: [Float], dim: Int, metric: Metric, assignment: Assignment, assignmentName: String,
                centroidsName: String) throws {
        let k = centroids.count / dim
        guard assignment.clusterCount == k else {
            throw ANNError.badData(source: assignmentName, message: "assignment is for \(assignment.clusterCount) clusters, the centroids are \(k)")
        }
        self.assignment = assignment
        self.dim = dim
        self.metric = metric
        self.storedCentroids = Fingerprint.storedCentroids(centroids, dim: dim, metric: metric)
        self.assignmentName = assignmentName
        self.centroidsName = centroidsName
    }

    /// The number of clusters.
    public var clusterCount: Int { assignment.clusterCount }

    /// Checks, before anything is read, what can be known of `base`: its dimension, and a
    /// native assignment's clustering and base count. Called before the output is created, so
    /// that inputs which do not belong together never start one; `base` must not have been
    /// read yet (its fingerprint is taken as it is packed).
    public func check(base: VectorReader) throws {
        guard base.dim == dim else {
            throw ANNError.badData(source: base.name, message: "base dimension \(base.dim) does not match the centroids' \(dim)")
        }
        base.fingerprinting = true
        if let id = assignment.identity {
            try id.check(clustering: Fingerprint.clustering(storedCentroids: storedCentroids, dim: dim, metric: metric),
                         source: assignmentName, centroidsName: centroidsName)
            if let n = base.count { try id.check(baseCount: n, source: assignmentName, baseName: base.name) }
        } else {
            sample = NearestCentroidCheck(storedCentroids: storedCentroids, dim: dim, metric: metric)
        }
        checked = ObjectIdentifier(base)
    }

    /// Reads `base` (passed to `check(base:)` first) and packs it into `writer` (made for
    /// `storedCentroids` and the base's dimension, type and `metric`), then finishes the index.
    /// Throws on a vector in no cluster, an assignment naming vectors past the base's end, or a
    /// base or sample that does not match.
    public func pack(_ base: VectorReader, into writer: IndexWriter, progress: (Event) -> Void = { _ in }) throws -> IndexWriter.Report {
        precondition(checked == ObjectIdentifier(base), "check(base:) first")
        let assignment = self.assignment
        var sample = self.sample
        let block = base.blockRecords(preferred: 16384)
        let rb = base.recordBytes
        var buf = [UInt8](repeating: 0, count: block * rb)
        var seen = 0
        var p = 0
        let pairs = assignment.pairCount
        while true {
            let n = try buf.withUnsafeMutableBytes { try base.readRaw(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            try buf.withUnsafeBytes { b in
                for i in 0..<n {
                    let id = seen + i
                    while p < pairs && Int(assignment.vectors[p]) < id { p += 1 }
                    var e = p
                    while e < pairs && Int(assignment.vectors[e]) == id { e += 1 }
                    guard e > p else {
                        throw ANNError.badData(source: assignmentName, message: "base vector \(id) is in no cluster (the assignment does not match the base)")
                    }
                    try writer.add(id: id, raw: b.baseAddress! + i * rb, clusters: assignment.clusters[p..<e])
                    if sample != nil && !sample!.isFull {
                        sample!.add(raw: b.baseAddress! + i * rb, type: base.elementType, clusters: assignment.clusters[p..<e])
                        if sample!.isFull { try sample!.verify(source: assignmentName) }
                    }
                    p = e
                }
            }
            seen += n
            progress(.staged(seen, total: base.count))
        }
        if p < pairs {
            throw ANNError.badData(source: assignmentName, message: "assigns vector \(assignment.vectors[p]), but the base holds only \(seen) vectors")
        }
        progress(.read(vectors: seen))
        guard let baseFingerprint = base.fingerprint else {
            throw ANNError.badData(source: base.name, message: "the base was not read to its end")
        }
        if let id = assignment.identity {
            try id.check(baseCount: seen, fingerprint: baseFingerprint, source: assignmentName, baseName: base.name)
        } else if let sample, !sample.isFull {
            try sample.verify(source: assignmentName)
        }
        let k = clusterCount
        return try writer.finish(baseFingerprint: baseFingerprint) { progress(.packed($0, total: k)) }
    }
}
