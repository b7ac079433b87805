/// Streams an assignment (vector, cluster) pair by pair, as ann-kmeans assigns a base larger
/// than memory; forms: native pairs, .ivecs (one record per vector), .ibin (pairs). The native
/// form ends with a footer carrying the CRC-32C of its records and the identity of the
/// clustering and base it was made for; the foreign forms have no room for either.
public final class AssignmentWriter {
    public let output: OutputFile
    public let format: FileFormat
    public let clusterCount: Int
    private let header: CountedHeader
    public private(set) var pairs = 0
    private var row: [Int32] = []
    private var rowVector = -1
    private var lastVector = -1
    private var recordsCRC: UInt32 = 0

    /// `pairCount` is the number of pairs when known (one per vector for plain k-means).
    public init(output: OutputFile, format: FileFormat, clusterCount: Int, pairCount: Int?) throws {
        guard format == .native || format == .ivecs || format == .ibin else {
            throw ANNError.usage("an assignment cannot be written as .\(format.rawValue); use native, ivecs or ibin")
        }
        self.output = output
        self.format = format
        self.clusterCount = clusterCount
        header = try CountedHeader(output: output, format: format, count: pairCount, binDim: 2) {
            StreamHeader(kind: .assignment, elementType: nil, metric: nil, dim: 2, aux: UInt32(clusterCount), count: $0).encoded()
        }
    }

    /// Appends one pair; vectors must come in ascending order, a vector's home cluster first.
    public func append(vector: Int, cluster: Int) throws {
        precondition(vector >= lastVector && cluster < clusterCount)
        lastVector = vector
        pairs += 1
        if format == .ivecs {
            if vector != rowVector {
                try flushRow()
                // One record per vector: a vector in no cluster gets an empty one.
                for _ in (rowVector + 1)..<vector { try output.sink.write(value: Int32(0).littleEndian) }
                rowVector = vector
            }
            row.append(Int32(cluster))
            return
        }
        var pair = (UInt32(vector).littleEndian, UInt32(cluster).littleEndian)
        try withUnsafeBytes(of: &pair) { b in
            recordsCRC = Checksum.crc32c(b, seed: recordsCRC)
            try output.sink.write(b)
        }
    }

    private func flushRow() throws {
        guard !row.isEmpty else { return }
        try output.sink.write(value: Int32(row.count).littleEndian)
        try row.withUnsafeBytes { try output.sink.write($0) }
        row.removeAll(keepingCapacity: true)
    }

    /// Ends the stream; `identity` names the clustering and the base the pairs were made for
    /// (recorded in the native form's footer).
    public func finish(identity: AssignmentIdentity) throws {
        try flushRow()
        if format == .native { try output.sink.write(identity.footer(recordsCRC: recordsCRC)) }
        try header.finish(written: pairs, unit: "pairs")
    }
}
