/// A packed index opened for querying (ann-formats(5), ANNI): the directory and centroids in
/// memory, the clusters on storage (any `RangeReadable`: a local file, a remote object), each
/// fetched with one read of exactly its frame, checked and decompressed. Nothing is cached
/// between fetches.
///
/// Every number read from the file is bounds-checked against the file's real size, with checked
/// conversions and arithmetic, before it sizes an allocation or locates a read; every byte that
/// decides decoding or location is covered by a checksum verified before it is used.
///
/// Threading: `fetch` may run on several threads at once, each with its own `ClusterBuffers`.
public final class PackedIndex {
    public struct Entry: Sendable {
        public var offset: Int
        public var size: Int
        public var vectors: Int
        public var crc: UInt32
    }

    public static let trailerSize = 48
    public static let entrySize = 24
    public static let trailerMagic = Array("ANNT".utf8)
    /// Trailer bytes 0..<trailerChecksumOffset are covered by the CRC-32C stored at that offset.
    public static let trailerChecksumOffset = 44
    /// The highest zstd level a trailer may record.
    public static let maxLevel = 22

    /// Where the bytes come from; every read of the index goes through it.
    public let storage: any RangeReadable
    /// How errors name the index (its path, for a local file).
    public var name: String { storage.name }
    public let dim: Int
    public let elementType: ElementType
    public let metric: Metric
    /// Distinct base vectors (the header's count).
    public let vectorCount: Int
    public let layout: ClusterFrame.Layout
    public let level: Int
    /// The clustering fingerprint (`Fingerprint.clustering`), verified against the centroids.
    public let fingerprint: UInt64
    /// The base fingerprint (`BaseFingerprint`) of the base the index was packed from.
    public let baseFingerprint: UInt64
    /// The number of base vectors the index was packed from, as the trailer records it (equal
    /// to `vectorCount`; every stored id is below it).
    public let baseCount: Int
    public let entries: [Entry]
    /// `clusterCount × dim` float32.
    public let centroids: [Float]

    public var clusterCount: Int { entries.count }

    /// Which index this is, down to its clusters' members: the CRC-32C of every frame's
    /// checksum, in cluster order (two indexes of one clustering and base differ here once a
    /// copy is added or a cluster is packed otherwise).
    public var framesChecksum: UInt32 { entries.map(\.crc).withUnsafeBytes { Checksum.crc32c($0) } }

    /// Opens the index at `location`: a local path, an http(s):// URL or s3://bucket/key
    /// (`ObjectLocation`).
    public convenience init(path location: String) throws {
        try self.init(storage: try ObjectLocation.open(location))
    }

    /// Reads and checks the header, trailer and directory of the index `storage` holds.
    public init(storage: any RangeReadable) throws {
        self.storage = storage
        let path = storage.name, fileSize = storage.size
        func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }
        guard fileSize >= StreamHeader.size else { throw bad("truncated index (\(fileSize) bytes)") }
        let head = try Self.read(storage, at: 0, count: StreamHeader.size)
        let h = try StreamHeader.decode(head, source: path)
        guard h.kind == .index else { throw bad("is \(h.kind.noun), not a packed index") }
        guard let type = h.elementType, let metric = h.metric, h.aux > 0, let n = h.count else {
            throw bad("packed index header lacks its element type, metric, cluster count or vector count")
        }
        guard n <= Int(UInt32.max) else { throw bad("header counts \(n) vectors, more than 32-bit ids can name") }
        guard fileSize >= StreamHeader.size + Self.trailerSize else { throw bad("truncated index (\(fileSize) bytes)") }

        // The trailer: magic, then its own checksum, then its fields.
        let trailerAt = fileSize - Self.trailerSize
        let trailer = try Self.read(storage, at: trailerAt, count: Self.trailerSize)
        guard Array(trailer[0..<4]) == Self.trailerMagic else { throw bad("truncated or damaged index: no trailer at its end") }
        let trailerCRC: UInt32 = trailer.loadLE(at: Self.trailerChecksumOffset)
        guard trailerCRC == Checksum.crc32c(Array(trailer[0..<Self.trailerChecksumOffset])) else {
            throw bad("trailer checksum mismatch: the index is damaged")
        }
        let dirCRC: UInt32 = trailer.loadLE(at: 4)
        let rawDirOffset: UInt64 = trailer.loadLE(at: 8)
        guard let layout = ClusterFrame.Layout(rawValue: trailer[32]) else { throw bad("unknown vector layout \(trailer[32])") }
        guard Int(trailer[33]) <= Self.maxLevel else { throw bad("zstd level \(trailer[33]) is not a level zstd has") }
        guard trailer[34..<40].allSatisfy({ $0 == 0 }) else { throw bad("reserved trailer bytes are not zero") }
        let trailerCount: UInt32 = trailer.loadLE(at: 40)
        guard Int(trailerCount) == n else {
            throw bad("trailer counts \(trailerCount) base vectors, the header \(n): the index is damaged")
        }

        // The directory must exactly fill the space between the frames and the trailer.
        let k = Int(h.aux), d = h.dim
        guard let dirOffset = Int(exactly: rawDirOffset), dirOffset >= StreamHeader.size, dirOffset <= trailerAt,
              let dirSize = Self.directorySize(clusters: k, dim: d), dirSize == trailerAt - dirOffset
        else { throw bad("truncated or damaged index: the directory does not fit the file") }
        let dir = try Self.read(storage, at: dirOffset, count: dirSize)
        guard Checksum.crc32c(dir) == dirCRC else { throw bad("directory checksum mismatch: the index is damaged") }
        var entries = [Entry]()
        entries.reserveCapacity(k)
        var total = 0
        for c in 0..<k {
            let o = c * Self.entrySize
            let rawOffset: UInt64 = dir.loadLE(at: o)
            let size = Int(dir.loadLE(at: o + 8) as UInt32), vectors = Int(dir.loadLE(at: o + 12) as UInt32)
            guard let offset = Int(exactly: rawOffset), offset >= StreamHeader.size,
                  case let (end, overflow) = offset.addingReportingOverflow(size), !overflow, end <= dirOffset
            else { throw bad("cluster \(c): frame lies outside the file (truncated or damaged index)") }
            guard vectors <= n else { throw bad("cluster \(c): holds \(vectors) vectors, more than the \(n) of the base") }
            guard (dir.loadLE(at: o + 20) as UInt32) == 0 else { throw bad("cluster \(c): reserved directory bytes are not zero") }
            let (sum, tooMany) = total.addingReportingOverflow(vectors)
            guard !tooMany else { throw bad("cluster \(c): the clusters hold more vectors than can be counted") }
            total = sum
            entries.append(Entry(offset: offset, size: size, vectors: vectors, crc: dir.loadLE(at: o + 16)))
        }
        guard total >= n else { throw bad("clusters hold \(total) vectors, fewer than the \(n) the header counts") }
        let centroidStart = k * Self.entrySize
        let cents = dir.withUnsafeBytes { b in
            [Float](unsafeUninitializedCapacity: k * d) { out, count in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: b[centroidStart...]))
                count = k * d
            }
        }
        // Centroids rank every query: a NaN or an overflowing one would rank nothing right,
        // so they meet the same bound as every vector a tool reads.
        if let over = cents.withUnsafeBufferPointer({ NormLimit.firstExceeding($0.baseAddress!, n: k, d: d) }) {
            throw bad("centroid \(over.row): squared norm \(NormLimit.describe(over.squaredNorm)) is not finite or too large: the index is damaged")
        }
        let fp: UInt64 = trailer.loadLE(at: 16)
        guard fp == Fingerprint.clustering(storedCentroids: cents, dim: d, metric: metric) else {
            throw bad("clustering fingerprint does not match the centroids: the index is damaged")
        }
        dim = d
        elementType = type
        self.metric = metric
        vectorCount = n
        self.layout = layout
        level = Int(trailer[33])
        fingerprint = fp
        baseFingerprint = trailer.loadLE(at: 24)
        baseCount = Int(trailerCount)
        self.entries = entries
        centroids = cents
    }

    /// `count` bytes of `storage` from `offset`; a short read is a truncated index.
    private static func read(_ storage: any RangeReadable, at offset: Int, count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        let got = try buf.withUnsafeMutableBytes { try storage.read(offset..<(offset + count), into: $0) }
        guard got == count else { throw ANNError.badData(source: storage.name, message: "truncated index (short read at offset \(offset))") }
        return buf
    }

    /// Bytes of the directory of `clusters` clusters in `dim` dimensions (entries, then the
    /// centroids as float32), or nil when that does not fit an Int.
    static func directorySize(clusters k: Int, dim d: Int) -> Int? {
        let (entries, o1) = k.multipliedReportingOverflow(by: entrySize)
        let (values, o2) = k.multipliedReportingOverflow(by: d)
        let (floats, o3) = values.multipliedReportingOverflow(by: 4)
        let (total, o4) = entries.addingReportingOverflow(floats)
        return o1 || o2 || o3 || o4 ? nil : total
    }

    /// Fetches cluster `c` into `buffers`: one read of its frame, CRC check, decompression,
    /// decoding to ids and float32 vectors. Returns the number of vectors. The frame's content is
    /// decompressed into a buffer grown as output arrives and must be exactly what the directory
    /// claims; its ids must ascend strictly and stay below the base's count.
    /// With `vectors` false only the ids are decoded (`buffers.floats` is left alone): the frame is
    /// still read, checked and decompressed whole, so the same damage is refused.
    @discardableResult
    public func fetch(_ c: Int, into buffers: ClusterBuffers, vectors: Bool = true) throws -> Int {
        let e = entries[c]
        // The frame's size was bounded by the directory against the file; the content's is not
        // trusted until the bytes exist.
        buffers.reserve(compressed: e.size)
        let got: Int
        do {
            got = try buffers.compressed.withUnsafeMutableBytes { try storage.read(e.offset..<(e.offset + e.size), into: $0) }
        } catch ANNError.io(let target, let message) {
            throw ANNError.io(target: target, message: "cluster \(c): \(message)")
        }
        guard got == e.size else { throw ANNError.badData(source: name, message: "cluster \(c): truncated frame (\(got) of \(e.size) bytes)") }
        return try buffers.compressed.withUnsafeBytes {
            try decode(c, frame: UnsafeRawBufferPointer(rebasing: $0[0..<e.size]), into: buffers, vectors: vectors)
        }
    }

    /// Checks and decodes cluster `c`'s frame, read already (`fetch`, `readFrames`), into
    /// `buffers`, as `fetch` does. Returns the number of vectors.
    public func decode(_ c: Int, frame: UnsafeRawBufferPointer, into buffers: ClusterBuffers, vectors: Bool = true) throws -> Int {
        let e = entries[c]
        func bad(_ m: String) -> ANNError { .badData(source: name, message: "cluster \(c): \(m)") }
        guard frame.count == e.size else { throw bad("truncated frame (\(frame.count) of \(e.size) bytes)") }
        let crc = Checksum.crc32c(frame)
        guard crc == e.crc else {
            throw bad("checksum mismatch (stored \(String(e.crc, radix: 16)), computed \(String(crc, radix: 16))): the index is damaged")
        }
        let n = e.vectors
        let (perVector, o1) = dim.multipliedReportingOverflow(by: elementType.size)
        let (record, o2) = perVector.addingReportingOverflow(4)
        let (contentSize, o3) = n.multipliedReportingOverflow(by: record)
        guard !(o1 || o2 || o3) else { throw bad("\(n) vectors of dimension \(dim) cannot be held") }
        try buffers.decompress(frame, expected: contentSize, source: "\(name): cluster \(c)")
        // The content arrived whole: n is now backed by real bytes and may size the outputs.
        buffers.reserve(vectors: n, dim: dim, floats: vectors)
        if vectors {
            ClusterFrame.decode(buffers.content, n: n, dim: dim, type: elementType, layout: layout, ids: buffers.ids, floats: buffers.floats)
        } else {
            ClusterFrame.decodeIDs(buffers.content, n: n, ids: buffers.ids)
        }
        // Ids are delta coded with wrapping: a wrap shows as a descent, so ascent and the last id
        // bound them all.
        let ids = buffers.ids
        for i in 1..<max(1, n) where ids[i] <= ids[i - 1] {
            throw bad("vector ids do not ascend at position \(i) (\(ids[i - 1]), then \(ids[i])): the index is damaged")
        }
        if n > 0 && Int(ids[n - 1]) >= vectorCount {
            throw bad("vector id \(ids[n - 1]) is not below the \(vectorCount) vectors of the base: the index is damaged")
        }
        return n
    }

    /// Asks the storage to serve the next fetches from the device, not a cache (for
    /// cold-cache measurements; not needed for correctness).
    public func dropCache() { storage.dropCache() }
}

/// Reusable per-thread buffers for fetching clusters: no allocation per fetch once grown.
public final class ClusterBuffers {
    public var compressed: [UInt8] = []
    /// The decompressed content of the last frame.
    public var content: UnsafeMutableRawPointer { contentBuffer.baseAddress! }
    public private(set) var ids: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    public private(set) var floats: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var contentBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 64)
    private var decoder: Zstd.FrameDecoder?
    private var vectorCapacity = 1
    private var floatCapacity = 1

    public init() {}

    /// Bytes these buffers hold now (they only grow with what fetched frames really contained).
    public var heldBytes: Int { compressed.count + contentBuffer.count + 4 * vectorCapacity + 4 * floatCapacity }

    deinit {
        contentBuffer.deallocate()
        ids.deallocate()
        floats.deallocate()
    }

    func reserve(compressed size: Int) {
        if compressed.count < size { compressed = [UInt8](repeating: 0, count: size) }
    }

    func decompress(_ frame: UnsafeRawBufferPointer, expected: Int, source: String) throws {
        if decoder == nil { decoder = try Zstd.FrameDecoder() }
        try decoder!.decompress(frame, expected: expected, into: &contentBuffer, source: source)
    }

    func reserve(vectors n: Int, dim: Int, floats wantFloats: Bool = true) {
        if vectorCapacity < n {
            ids.deallocate()
            ids = .allocate(capacity: n)
            vectorCapacity = n
        }
        if wantFloats && floatCapacity < n * dim {
            floats.deallocate()
            floats = .allocate(capacity: n * dim)
            floatCapacity = n * dim
        }
    }
}
