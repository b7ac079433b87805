/// The header of a stream whose record count may be known only at its end: the native header,
/// or the (n, d) of a big-ann `.bin` (TEXMEX forms have none). Written at the start with the
/// count when it is known, and filled in at the end when the output is a file; a pipe cannot
/// be filled in, so a `.bin` of unknown length is refused there before anything is written.
struct CountedHeader {
    private let output: OutputFile
    private let format: FileFormat
    private let promised: Int?
    private let start: Int
    private let binDim: Int
    private let native: (Int?) -> [UInt8]

    /// Writes the header for `count` records (nil: not known yet). `native` encodes the native
    /// header for a count; `binDim` is the d of a `.bin` header.
    init(output: OutputFile, format: FileFormat, count: Int?, binDim: Int, native: @escaping (Int?) -> [UInt8]) throws {
        if format.isBin && count == nil && !output.sink.isSeekable {
            throw ANNError.usage("cannot stream .\(format.rawValue) of unknown length to a pipe; write to a file or use the native form")
        }
        self.output = output
        self.format = format
        promised = count
        start = output.sink.offset
        self.binDim = binDim
        self.native = native
        if format == .native {
            try output.sink.write(native(count))
        } else if format.isBin {
            try output.sink.write(value: UInt32(count ?? 0).littleEndian)
            try output.sink.write(value: UInt32(binDim).littleEndian)
        }
    }

    /// Completes the header once `written` records (`unit`, for the message) are out: refuses a
    /// count that breaks the promise made at the start, fills in one that was not known.
    func finish(written: Int, unit: String) throws {
        if let p = promised, p != written {
            throw ANNError.io(target: output.sink.name, message: "wrote \(written) \(unit), promised \(p)")
        }
        guard promised == nil, output.sink.isSeekable else { return }
        if format == .native {
            try output.sink.patch(native(written), at: start)
        } else if format.isBin {
            var n = [UInt8](repeating: 0, count: 4)
            n.storeLE(UInt32(written), at: 0)
            try output.sink.patch(n, at: start)
        }
    }
}
