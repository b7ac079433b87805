/// Streams an assignment (vector, cluster) pair by pair, as ann-kmeans assigns a base larger
/// than memory; forms: native pairs, .ivecs (one record per vector), .ibin (pairs). The native
/// form ends with a footer carrying the CRC-32C of its records and the identity of the
/// clustering and base it was made for; the foreign forms have no room for either.
public final class AssignmentWriter {
    public let output: OutputFile
    public let format: FileFormat
    public let clusterCount: Int
    private let promised: Int?
    private let start: Int
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
        if format == .ibin && pairCount == nil && !output.sink.isSeekable {
            throw ANNError.usage("cannot stream .ibin of unknown length to a pipe; write to a file or use the native form")
        }
        self.output = output
        self.format = format
        self.clusterCount = clusterCount
        promised = pairCount
        start = output.sink.offset
        try writeHeader(pairs: pairCount)
    }

    private func header(pairs: Int?) -> [UInt8] {
        StreamHeader(kind: .assignment, elementType: nil, metric: nil, dim: 2, aux: UInt32(clusterCount), count: pairs).encoded()
    }

    private func writeHeader(pairs: Int?) throws {
        if format == .native {
            try output.sink.write(header(pairs: pairs))
        } else if format == .ibin {
            try output.sink.write(value: UInt32(pairs ?? 0).littleEndian)
            try output.sink.write(value: UInt32(2).littleEndian)
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
        if let p = promised, p != pairs {
            throw ANNError.io(target: output.sink.name, message: "wrote \(pairs) pairs, promised \(p)")
        }
        guard promised == nil, output.sink.isSeekable else { return }
        if format == .native {
            try output.sink.patch(header(pairs: pairs), at: start)
        } else if format == .ibin {
            var n = [UInt8](repeating: 0, count: 4)
            n.storeLE(UInt32(pairs), at: 0)
            try output.sink.patch(n, at: start)
        }
    }
}
