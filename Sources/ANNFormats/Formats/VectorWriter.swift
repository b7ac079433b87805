/// Writes vectors in the native stream or a foreign vector form, filling in the count at the
/// end when the output is a file and the count was not known up front.
public final class VectorWriter {
    public let output: OutputFile
    public let format: FileFormat
    public let dim: Int
    public let elementType: ElementType
    private let metric: Metric?
    private let expected: Int?
    private let start: Int
    public private(set) var written = 0
    private var convert: [UInt8] = []

    /// `elementType` is how the values are stored; a foreign form must hold that type
    /// (`.fvecs`/`.fbin` for float32, `.bvecs`/`.u8bin` for uint8).
    public init(output: OutputFile, format: FileFormat, dim: Int, elementType: ElementType, metric: Metric? = nil, count: Int?) throws {
        guard format == .native || format.vectorElementType != nil else {
            throw ANNError.usage("cannot write vectors as .\(format.rawValue); use native, fvecs, bvecs, fbin or u8bin")
        }
        if let t = format.vectorElementType, t != elementType {
            throw ANNError.usage("these vectors are \(elementType.name); .\(format.rawValue) holds \(t.name): use .\(format.vectorForm(for: elementType).rawValue)")
        }
        if format.isBin && count == nil && !output.sink.isSeekable {
            throw ANNError.usage("cannot stream .\(format.rawValue) of unknown length to a pipe; write to a file or use the native form")
        }
        self.output = output
        self.format = format
        self.dim = dim
        self.elementType = elementType
        self.metric = metric
        expected = count
        start = output.sink.offset
        try writeHeader(count: count)
    }

    private func writeHeader(count: Int?) throws {
        if format == .native {
            try output.sink.write(StreamHeader(kind: .vectors, elementType: elementType, metric: metric, dim: dim, count: count).encoded())
        } else if format.isBin {
            try output.sink.write(value: UInt32(count ?? 0).littleEndian)
            try output.sink.write(value: UInt32(dim).littleEndian)
        }
    }

    /// Writes `count` records stored as `elementType`.
    public func write(raw: UnsafeRawPointer, count: Int) throws {
        let rb = dim * elementType.size
        if format.isTexmex {
            for i in 0..<count {
                try output.sink.write(value: Int32(dim).littleEndian)
                try output.sink.write(UnsafeRawBufferPointer(start: raw + i * rb, count: rb))
            }
        } else {
            try output.sink.write(UnsafeRawBufferPointer(start: raw, count: count * rb))
        }
        written += count
    }

    public func write(_ values: [Float]) throws {
        precondition(elementType == .float32 && values.count % dim == 0)
        try values.withUnsafeBytes { try write(raw: $0.baseAddress!, count: values.count / dim) }
    }

    /// Completes the stream: fills in the count where it was not known.
    public func finish() throws {
        if let e = expected, e != written {
            throw ANNError.io(target: output.sink.name, message: "wrote \(written) records, promised \(e)")
        }
        guard expected == nil, output.sink.isSeekable else { return }
        if format == .native {
            try output.sink.patch(StreamHeader(kind: .vectors, elementType: elementType, metric: metric, dim: dim, count: written).encoded(), at: start)
        } else if format.isBin {
            var n = [UInt8](repeating: 0, count: 4)
            n.storeLE(UInt32(written), at: 0)
            try output.sink.patch(n, at: start)
        }
    }
}
