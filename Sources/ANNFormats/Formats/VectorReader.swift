import Glibc

/// Reads vectors from any supported form, block by block, checking every record: dimension,
/// truncation, finite values, and (float32) a squared norm within `NormLimit`, so that no
/// distance between two vectors it accepts can overflow. Never holds more than the caller's
/// block.
public final class VectorReader {
    public let input: InputFile
    public let dim: Int
    public let elementType: ElementType
    /// The metric a native stream was written for (centroids carry one), else nil.
    public let metric: Metric?
    /// Records in the input (in its shard, once `restrict(to:)` narrowed it) when the form
    /// tells it, else nil.
    public private(set) var count: Int?
    /// The position in the whole input of the first record delivered: 0, or where a shard
    /// starts.
    public private(set) var firstID = 0
    /// The shard this reader is narrowed to, if any.
    public private(set) var shard: Shard?
    /// Records delivered so far.
    public private(set) var recordsRead = 0
    /// Accept ±infinity (distances files pad short rows with it); NaN is always refused.
    public var allowsInfinity = false
    /// When true (set before the first read), every record's stored bytes are hashed as they
    /// pass through `readRaw`, into the base fingerprint (`BaseFingerprint`).
    public var fingerprinting = false {
        didSet { precondition(recordsRead == 0, "fingerprinting must be chosen before the first read") }
    }
    /// The base fingerprint of every record, once the input is exhausted with `fingerprinting`
    /// on (the read that returned 0 succeeded); nil before that.
    public private(set) var fingerprint: UInt64?
    private var hasher: BaseFingerprint?
    /// Refuse a float32 record whose squared norm is beyond `NormLimit` (off for rows that are
    /// not vectors to measure, such as a ground truth's distances).
    public var checksNorms = true
    public var name: String { input.name }
    private var firstDimPending: Bool
    private var scratch: UnsafeMutableRawBufferPointer?

    public var recordBytes: Int { dim * elementType.size }

    public init(_ input: InputFile) throws {
        self.input = input
        try input.expect(.vectors, foreign: [.fvecs, .bvecs, .fbin, .u8bin])
        if let h = input.header {
            dim = h.dim
            elementType = h.elementType!
            metric = h.metric
            count = h.count
            if h.count == 0 { throw ANNError.badData(source: input.name, message: "empty input (the header says 0 records)") }
            if try input.reader.atEnd() { throw ANNError.badData(source: input.name, message: "empty input (a header and no records)") }
            if let c = h.count, let size = input.byteSize { try Self.checkLength(count: c, dim: h.dim, valueSize: elementType.size, fileSize: size, source: input.name) }
            firstDimPending = false
        } else {
            elementType = input.format.vectorElementType!
            let shape = try input.readForeignShape(valueSize: elementType.size)
            dim = shape.dim
            count = shape.count
            metric = nil
            firstDimPending = input.format.isTexmex
        }
    }

    /// Opens `path` (nil or "-": stdin) as vectors; `name` replaces the path in messages.
    public convenience init(path: String?, from: FileFormat? = nil, name: String? = nil) throws {
        try self.init(try InputFile.open(path, from: from, name: name))
    }

    deinit { scratch?.deallocate() }

    /// Narrows the reader, before its first read, to `shard`'s records, reached by position
    /// (a seek, not a read of what comes before). Only an uncompressed file whose records all
    /// have one size and whose count is known can be cut so: not stdin, not zstd.
    public func restrict(to shard: Shard) throws {
        precondition(recordsRead == 0, "a reader is narrowed before its first read")
        guard input.byteSize != nil, name != "<stdin>", let total = count else {
            throw ANNError.usage("\(name): a shard is read by position, from an uncompressed file of fixed-size records (not stdin or zstd)")
        }
        let r = shard.records(of: total)
        guard !r.isEmpty else { throw ANNError.usage("\(name): shard \(shard) of \(total) records holds none") }
        if r.lowerBound > 0 {
            if input.format.isTexmex {
                // Record 0's dimension was read; land on record r's, which the next read checks.
                try input.reader.skip(r.lowerBound * (4 + recordBytes) - 4)
                firstDimPending = false
            } else {
                try input.reader.skip(r.lowerBound * recordBytes)
            }
        }
        count = r.count
        firstID = r.lowerBound
        self.shard = shard
    }

    private func bad(_ m: String) -> ANNError { .badData(source: name, message: m) }

    /// Reads up to `maxCount` records as stored (uint8 or float32 values) into `dest`, which
    /// must hold `maxCount * recordBytes`. Returns the number read; 0 at the end.
    public func readRaw(into dest: UnsafeMutableRawPointer, maxCount: Int) throws -> Int {
        var want = maxCount
        if let c = count { want = min(want, c - recordsRead) }
        guard want > 0 else { return try finishCheck() }
        let rb = recordBytes
        var got = 0
        if input.format.isTexmex {
            while got < want {
                if firstDimPending {
                    firstDimPending = false
                } else if try !input.readRecordDimension(record: recordsRead + got, expecting: dim) {
                    break
                }
                let n = try input.reader.read(into: UnsafeMutableRawBufferPointer(start: dest + got * rb, count: rb))
                guard n == rb else { throw bad("record \(recordsRead + got): truncated (\(n) of \(rb) bytes)") }
                got += 1
            }
        } else {
            let n = try input.reader.read(into: UnsafeMutableRawBufferPointer(start: dest, count: want * rb))
            got = n / rb
            if n % rb != 0 { throw bad("record \(recordsRead + got): truncated (\(n % rb) of \(rb) bytes)") }
        }
        if elementType == .float32 {
            try checkFinite(dest.assumingMemoryBound(to: UInt32.self), count: got * dim)
            if checksNorms { try checkNorms(dest.assumingMemoryBound(to: Float.self), count: got) }
        }
        if fingerprinting {
            if hasher == nil { hasher = BaseFingerprint(elementType: elementType, dim: dim) }
            hasher!.update(UnsafeRawBufferPointer(start: dest, count: got * rb))
        }
        recordsRead += got
        if got == 0 { return try finishCheck() }
        return got
    }

    /// Reads up to `maxCount` records converted to float32 into `dest` (`maxCount * dim` floats).
    public func read(into dest: UnsafeMutablePointer<Float>, maxCount: Int) throws -> Int {
        if elementType == .float32 { return try readRaw(into: UnsafeMutableRawPointer(dest), maxCount: maxCount) }
        let need = maxCount * dim
        if scratch == nil || scratch!.count < need {
            scratch?.deallocate()
            scratch = .allocate(byteCount: need, alignment: 64)
        }
        let n = try readRaw(into: scratch!.baseAddress!, maxCount: maxCount)
        let src = scratch!.baseAddress!.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(n * dim) { dest[i] = Float(src[i]) }
        return n
    }

    /// How many records a caller's block should hold: `preferred`, fewer where the dimension
    /// would make the block larger than `bytes` of floats, never 0. Block buffers are sized
    /// before any record is read, so the header's dimension alone must not size them.
    public func blockRecords(preferred: Int, bytes: Int = 1 << 25) -> Int {
        max(1, min(preferred, bytes / (dim * MemoryLayout<Float>.size)))
    }

    /// Reads everything left into one array of floats (for inputs that are small by nature:
    /// queries, centroids).
    public func readAll() throws -> [Float] {
        var out = [Float]()
        if let c = count { out.reserveCapacity(min(c - recordsRead, max(1, (1 << 24) / dim)) * dim) }
        let block = max(1, min(4096, (1 << 22) / dim))
        var buf = [Float](repeating: 0, count: block * dim)
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<(n * dim)])
        }
        return out
    }

    /// Whether `read(positions:into:)` can reach records by position: an uncompressed regular
    /// file of fixed-size records whose count is known (a spooled copy of stdin included).
    public var readsByPosition: Bool {
        input.byteSize != nil && count != nil && shard == nil && input.reader.source is FileByteSource
    }

    /// Reads the records at `positions` (below `count`) as float32 into `dest` (`positions.count
    /// × dim`), each with one pread(2), checked as a sequential read checks it (dimension,
    /// finite values, norm). Leaves the sequential position where it was.
    public func read(positions: ArraySlice<Int>, into dest: UnsafeMutablePointer<Float>) throws {
        guard readsByPosition, let file = input.reader.source as? FileByteSource, let total = count else {
            throw ANNError.usage("\(name): records are read by position only from an uncompressed file")
        }
        let rb = recordBytes
        let (start, stride) = input.format == .native ? (StreamHeader.size, rb) : input.format.isBin ? (8, rb) : (4, 4 + rb)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rb, alignment: 16)
        defer { raw.deallocate() }
        func pread(_ p: Int, _ buffer: UnsafeMutableRawPointer, _ size: Int, at offset: Int) throws {
            var done = 0
            while done < size {
                let n = Glibc.pread(file.fd, buffer + done, size - done, off_t(offset + done))
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n == 0 { throw bad("record \(p): truncated (\(done) of \(size) bytes)") }
                throw ANNError.io(target: name, message: "read failed: \(errnoText(errno))")
            }
        }
        for (j, p) in positions.enumerated() {
            precondition(p >= 0 && p < total)
            let offset = start + p * stride
            if input.format.isTexmex {
                var d: Int32 = 0
                try withUnsafeMutableBytes(of: &d) { try pread(p, $0.baseAddress!, 4, at: offset - 4) }
                guard Int(Int32(littleEndian: d)) == dim else { throw bad("record \(p): dimension \(Int32(littleEndian: d)) does not match \(dim)") }
            }
            try pread(p, raw, rb, at: offset)
            let out = dest + j * dim
            if elementType == .float32 {
                out.update(from: raw.assumingMemoryBound(to: Float.self), count: dim)
                for i in 0..<dim where !out[i].isFinite { throw bad("record \(p): value \(i) is \(out[i].isNaN ? "NaN" : "infinite")") }
                if checksNorms, let (_, norm) = NormLimit.firstExceeding(out, n: 1, d: dim) {
                    throw bad("record \(p): squared norm \(NormLimit.describe(norm)) is too large: distances would overflow float32")
                }
            } else {
                let src = raw.assumingMemoryBound(to: UInt8.self)
                for i in 0..<dim { out[i] = Float(src[i]) }
            }
        }
    }

    private func finishCheck() throws -> Int {
        if let c = count, recordsRead < c {
            throw bad("truncated: \(c) records expected, \(recordsRead) found")
        }
        if count != nil, shard == nil, !(try input.reader.atEnd()) {
            throw bad("trailing data after \(recordsRead) records")
        }
        if fingerprinting { fingerprint = (hasher ?? BaseFingerprint(elementType: elementType, dim: dim)).value }
        return 0
    }

    /// A native header's count sizes nothing until it agrees with the file's real length.
    /// `shape` names a record's size in the message (default "dimension `dim`").
    static func checkLength(count: Int, dim: Int, valueSize: Int, fileSize: Int, source: String, shape: String? = nil) throws {
        let (body, o1) = count.multipliedReportingOverflow(by: dim * valueSize)
        let (total, o2) = body.addingReportingOverflow(StreamHeader.size)
        if o1 || o2 || total > fileSize {
            throw ANNError.badData(source: source, message: "truncated: the header says \(count) records of \(shape ?? "dimension \(dim)"), the file holds \(fileSize) bytes")
        }
        if total < fileSize { throw ANNError.badData(source: source, message: "\(fileSize - total) bytes of trailing data after \(count) records") }
    }

    private func checkNorms(_ x: UnsafeMutablePointer<Float>, count: Int) throws {
        guard let (row, norm) = NormLimit.firstExceeding(x, n: count, d: dim) else { return }
        throw bad("record \(recordsRead + row): squared norm \(NormLimit.describe(norm)) is too large: distances would overflow float32")
    }

    private func checkFinite(_ bits: UnsafeMutablePointer<UInt32>, count: Int) throws {
        var bad = false
        for i in 0..<count where bits[i] & 0x7F80_0000 == 0x7F80_0000 && !(allowsInfinity && bits[i] & 0x007F_FFFF == 0) { bad = true }
        guard bad else { return }
        for i in 0..<count where bits[i] & 0x7F80_0000 == 0x7F80_0000 && !(allowsInfinity && bits[i] & 0x007F_FFFF == 0) {
            let v = Float(bitPattern: bits[i])
            throw self.bad("record \(recordsRead + i / dim): value \(i % dim) is \(v.isNaN ? "NaN" : "infinite")")
        }
    }
}
