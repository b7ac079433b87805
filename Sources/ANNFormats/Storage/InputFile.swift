/// An opened input with its form recognised: zstd unwrapped, the native header parsed, or the
/// foreign form named by the caller or taken from the file name (ann-formats(5)).
public struct InputFile {
    public let reader: BufferedReader
    public let format: FileFormat
    /// The parsed header of a native stream, already consumed.
    public let header: StreamHeader?
    /// The byte size of the underlying data when it is an uncompressed regular file.
    public let byteSize: Int?
    public var name: String { reader.name }

    /// Opens `path` (nil or "-" for stdin). `from` names the form when the name cannot.
    /// `name` replaces the path in messages (a spooled copy of stdin is still `<stdin>`).
    public static func open(_ path: String?, from: FileFormat? = nil, name: String? = nil) throws -> InputFile {
        let file = try FileByteSource(path: path, name: name)
        var reader = BufferedReader(file)
        var size = file.regularFileSize
        var head = try reader.peek(4)
        if head.elementsEqual(Zstd.frameMagic) {
            // The decoder reads through the buffered reader: the bytes peeked are not lost.
            reader = BufferedReader(try Zstd.Decoder(reader))
            size = nil
            head = try reader.peek(4)
        }
        if head.isEmpty { throw ANNError.badData(source: reader.name, message: "empty input") }
        if StreamKind(magic: head) != nil {
            var raw = [UInt8](repeating: 0, count: StreamHeader.size)
            let n = try raw.withUnsafeMutableBytes { try reader.read(into: $0) }
            let h = try StreamHeader.decode(Array(raw.prefix(n)), source: reader.name)
            return InputFile(reader: reader, format: .native, header: h, byteSize: size)
        }
        let stdin = path == nil || path == "-" || name == "<stdin>"
        let named = from ?? (stdin ? nil : path.flatMap(FileFormat.fromPath))
        guard let format = named, format != .native else {
            throw ANNError.badData(source: reader.name, message: from == .native || !stdin ? Self.unnamedForm : Self.unnamedStdinForm)
        }
        return InputFile(reader: reader, format: format, header: nil, byteSize: size)
    }

    /// The refusal of an input that is no native stream and whose name tells no foreign form;
    /// the command layer adds how its user names one.
    public static let unnamedForm = "not an ann-tools stream (bad magic) and not named as a foreign form"
    /// The same refusal for standard input, which has no name to tell the form.
    public static let unnamedStdinForm = "not an ann-tools stream; stdin does not name its form"

    /// Throws unless this input is a native stream of `kind` or a foreign form.
    public func expect(_ kind: StreamKind, foreign allowed: Set<FileFormat>) throws {
        if let h = header {
            guard h.kind == kind else { throw ANNError.badData(source: name, message: "is \(h.kind.noun), not \(kind.noun)") }
        } else if !allowed.contains(format) {
            let what = format == .ivecs || format == .ibin ? "integers" : "vectors"
            throw ANNError.badData(source: name, message: "a .\(format.rawValue) file holds \(what), not \(kind.noun)")
        }
    }

    /// For a foreign form: reads its leading dimension (TEXMEX) or (n, d) header (big-ann).
    /// Returns (dim, count if known).
    func readForeignShape(valueSize: Int) throws -> (dim: Int, count: Int?) {
        if format.isBin {
            let (n, pn) = try reader.readLE(UInt32.self)
            let (d, pd) = try reader.readLE(UInt32.self)
            guard let n, let d else {
                throw ANNError.badData(source: name, message: "truncated .\(format.rawValue) header (\(pn + pd) of 8 bytes)")
            }
            guard d > 0 && d <= 1 << 20 else {
                throw ANNError.badData(source: name, message: "not a .\(format.rawValue) file: header dimension is \(d)")
            }
            if n == 0 { throw ANNError.badData(source: name, message: "empty input (the header says 0 records)") }
            if let s = byteSize, s != 8 + Int(n) * Int(d) * valueSize {
                if s < 8 + Int(n) * Int(d) * valueSize {
                    throw ANNError.badData(source: name, message: "truncated: the header says \(n) records of dimension \(d), the file holds \(s) bytes")
                }
                throw ANNError.badData(source: name, message: "\(s - 8 - Int(n) * Int(d) * valueSize) bytes of trailing data after \(n) records")
            }
            return (Int(d), Int(n))
        }
        let (d, pd) = try reader.readLE(Int32.self)
        guard let d else { throw ANNError.badData(source: name, message: "truncated record 0 (\(pd) of 4 bytes of its dimension)") }
        guard d > 0 && d <= 1 << 20 else {
            throw ANNError.badData(source: name, message: "not a .\(format.rawValue) file: record 0 has dimension \(d)")
        }
        var count: Int?
        let record = 4 + Int(d) * valueSize
        if let s = byteSize, s % record == 0 { count = s / record }
        return (Int(d), count)
    }

    /// Reads the dimension that leads TEXMEX record `r` (every record's but the first, which
    /// `readForeignShape` took) and refuses one other than `dim`. False at the end of the
    /// input, where not one byte of it is left.
    func readRecordDimension(record r: Int, expecting dim: Int) throws -> Bool {
        let (d, partial) = try reader.readLE(Int32.self)
        guard let d else {
            if partial == 0 { return false }
            throw ANNError.badData(source: name, message: "record \(r): truncated (\(partial) of 4 bytes of its dimension)")
        }
        guard Int(d) == dim else { throw ANNError.badData(source: name, message: "record \(r): dimension \(d) does not match \(dim)") }
        return true
    }
}
