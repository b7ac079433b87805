/// Writes vectors in the native stream or a foreign vector form, filling in the count at the
/// end when the output is a file and the count was not known up front.
public final class VectorWriter {
    public let output: OutputFile
    public let format: FileFormat
    public let dim: Int
    public let elementType: ElementType
    private let header: CountedHeader
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
        self.output = output
        self.format = format
        self.dim = dim
        self.elementType = elementType
        header = try CountedHeader(output: output, format: format, count: count, binDim: dim) {
            StreamHeader(kind: .vectors, elementType: elementType, metric: metric, dim: dim, count: $0).encoded()
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
        try header.finish(written: written, unit: "records")
    }
}
