/// Per query, the k nearest ids and their distances: the output of ann-groundtruth and
/// ann-query, and the ground truth that ann-train and the evaluation read.
public struct NeighborList: Sendable {
    public static let noID = UInt32.max
    /// Values reserved ahead of the records when nothing confirms a header's count.
    static let unverifiedReserve = 1 << 20
    public let k: Int
    public let metric: Metric
    /// `count * k` ids, row-major; `noID` pads a short row.
    public var ids: [UInt32]
    /// `count * k` distances as written in files: squared L2, or similarity for ip/cos.
    /// NaN when read from an ids-only file.
    public var distances: [Float]

    public var count: Int { ids.count / k }

    public init(k: Int, metric: Metric, ids: [UInt32], distances: [Float]) {
        precondition(ids.count == distances.count && ids.count % k == 0)
        self.k = k
        self.metric = metric
        self.ids = ids
        self.distances = distances
    }

    public func row(_ q: Int) -> ArraySlice<UInt32> { ids[(q * k)..<((q + 1) * k)] }
    public func rowDistances(_ q: Int) -> ArraySlice<Float> { distances[(q * k)..<((q + 1) * k)] }
    /// CRC-32C of the ids, then of the distances: whether two lists are the same one.
    public var checksum: UInt32 {
        let c = ids.withUnsafeBytes { Checksum.crc32c($0) }
        return distances.withUnsafeBytes { Checksum.crc32c($0, seed: c) }
    }

    /// The lists of queries `queries` alone (a slice of a query file).
    public func rows(_ queries: Range<Int>) -> NeighborList {
        NeighborList(k: k, metric: metric, ids: Array(ids[(queries.lowerBound * k)..<(queries.upperBound * k)]),
                     distances: Array(distances[(queries.lowerBound * k)..<(queries.upperBound * k)]))
    }

    /// Writes the list in `format`: native (ids and distances), .ivecs/.ibin (ids) or
    /// .fvecs/.fbin (distances).
    public func write(to output: OutputFile, format: FileFormat) throws {
        let writer = try NeighborListWriter(output: output, format: format, k: k, metric: metric, count: count)
        try writer.write(self)
        try writer.finish()
    }

    /// Reads a neighbour list: a native stream, or ids from .ivecs/.ibin with distances from an
    /// optional second file (.fvecs/.fbin, as the TEXMEX and big-ann ground truths ship).
    public static func load(_ path: String?, from: FileFormat? = nil, distances distPath: String? = nil, metric: Metric = .l2) throws -> NeighborList {
        let input = try InputFile.open(path, from: from)
        try input.expect(.neighbors, foreign: [.ivecs, .ibin])
        if let h = input.header {
            let k = h.dim
            var ids = [UInt32]()
            var dists = [Float]()
            if let c = h.count {
                // The header's count sizes storage only once the file's length confirms it;
                // otherwise (a pipe, zstd) the lists grow as records arrive.
                if let size = input.byteSize { try VectorReader.checkLength(count: c, dim: 2 * k, valueSize: 4, fileSize: size, source: input.name, shape: "k \(k)") }
                let reserve = input.byteSize != nil ? c * k : min(c, max(1, Self.unverifiedReserve / k)) * k
                ids.reserveCapacity(reserve)
                dists.reserveCapacity(reserve)
            }
            var rowIDs = [UInt32](repeating: 0, count: k)
            var rowDists = [Float](repeating: 0, count: k)
            var q = 0
            while h.count == nil || q < h.count! {
                let a = try rowIDs.withUnsafeMutableBytes { try input.reader.read(into: $0) }
                if a == 0 && h.count == nil { break }
                let b = try rowDists.withUnsafeMutableBytes { try input.reader.read(into: $0) }
                guard a + b == 8 * k else {
                    throw ANNError.badData(source: input.name, message: "record \(q): truncated (\(a + b) of \(8 * k) bytes)")
                }
                ids.append(contentsOf: rowIDs.map { UInt32(littleEndian: $0) })
                dists.append(contentsOf: rowDists)
                q += 1
            }
            if q == 0 { throw ANNError.badData(source: input.name, message: "empty input") }
            if !(try input.reader.atEnd()) { throw ANNError.badData(source: input.name, message: "trailing data after \(q) records") }
            guard let m = h.metric else { throw ANNError.badData(source: input.name, message: "neighbour list without a metric") }
            return NeighborList(k: k, metric: m, ids: ids, distances: dists)
        }
        let ids = try IntegerRecords.read(input)
        var dists = [Float](repeating: .nan, count: ids.values.count)
        if let dp = distPath {
            let r = try VectorReader(path: dp)
            r.allowsInfinity = true
            r.checksNorms = false
            guard r.elementType == .float32, r.dim == ids.dim else {
                throw ANNError.badData(source: dp, message: "distances of dimension \(r.dim) do not match \(ids.dim) ids")
            }
            dists = try r.readAll()
            guard dists.count == ids.values.count else {
                throw ANNError.badData(source: dp, message: "\(dists.count / r.dim) records of distances for \(ids.values.count / ids.dim) of ids")
            }
        }
        return NeighborList(k: ids.dim, metric: metric, ids: ids.values.map { UInt32(bitPattern: $0) }, distances: dists)
    }
}
