/// Writes a neighbour list row block by row block as answers arrive, in the forms
/// `NeighborList.write` knows, so that a stream of any length is written in bounded memory. The
/// count is written at the start when it is known, and filled in at the end of a file when not
/// (`CountedHeader`); a promise broken by the rows written is an error.
public final class NeighborListWriter {
    public let output: OutputFile
    public let format: FileFormat
    public let k: Int
    public private(set) var written = 0
    private let header: CountedHeader
    private var row: [UInt32]

    public init(output: OutputFile, format: FileFormat, k: Int, metric: Metric, count: Int?) throws {
        guard format == .native || format == .ivecs || format == .ibin || format == .fvecs || format == .fbin else {
            throw ANNError.usage("a neighbour list cannot be written as .\(format.rawValue); use native, ivecs, ibin, fvecs or fbin")
        }
        self.output = output
        self.format = format
        self.k = k
        row = [UInt32](repeating: 0, count: k)
        header = try CountedHeader(output: output, format: format, count: count, binDim: k) {
            StreamHeader(kind: .neighbors, elementType: nil, metric: metric, dim: k, count: $0).encoded()
        }
    }

    /// Writes the rows of `list` (its k must be the writer's).
    public func write(_ list: NeighborList) throws {
        precondition(list.k == k)
        let sink = output.sink, n = list.count
        switch format {
        case .native:
            try list.ids.withUnsafeBytes { i in
                try list.distances.withUnsafeBytes { d in
                    for q in 0..<n {
                        try sink.write(UnsafeRawBufferPointer(rebasing: i[(q * k * 4)..<((q + 1) * k * 4)]))
                        try sink.write(UnsafeRawBufferPointer(rebasing: d[(q * k * 4)..<((q + 1) * k * 4)]))
                    }
                }
            }
        default:
            let asIDs = format == .ivecs || format == .ibin
            for q in 0..<n {
                if format.isTexmex { try sink.write(value: Int32(k).littleEndian) }
                for j in 0..<k { row[j] = asIDs ? list.ids[q * k + j] : list.distances[q * k + j].bitPattern }
                try row.withUnsafeBytes { try sink.write($0) }
            }
        }
        written += n
    }

    /// Writes `parts`, the results of consecutive slices of one query file (named `names` in
    /// messages), one after another: the result of the whole file. The parts must agree on k
    /// and the metric.
    public static func join(_ parts: [NeighborList], names: [String], to output: OutputFile, format: FileFormat) throws {
        guard let first = parts.first else { throw ANNError.usage("nothing to join") }
        for (p, name) in zip(parts, names) where p.k != first.k || p.metric != first.metric {
            throw ANNError.badData(source: name, message: "k \(p.k) for \(p.metric.rawValue), the first part k \(first.k) for \(first.metric.rawValue): not parts of one result")
        }
        let writer = try NeighborListWriter(output: output, format: format, k: first.k, metric: first.metric,
                                            count: parts.reduce(0) { $0 + $1.count })
        for p in parts { try writer.write(p) }
        try writer.finish()
    }

    /// Completes the stream: fills in the count where it was not known.
    public func finish() throws {
        try header.finish(written: written, unit: "neighbour lists")
    }
}
