import Glibc

/// A packed index opened for querying (ann-formats(5), ANNI): the directory and centroids in
/// memory, the clusters on storage, each fetched with one pread of exactly its frame, checked
/// and decompressed. Nothing is cached between fetches.
///
/// Threading: `fetch` may run on several threads at once, each with its own `ClusterBuffers`.
public final class PackedIndex {
    public struct Entry: Sendable {
        public var offset: Int
        public var size: Int
        public var vectors: Int
        public var crc: UInt32
    }

    public static let trailerSize = 32
    public static let entrySize = 24
    public static let trailerMagic = Array("ANNT".utf8)

    public let path: String
    public let dim: Int
    public let elementType: ElementType
    public let metric: Metric
    public let vectorCount: Int
    public let layout: ClusterFrame.Layout
    public let level: Int
    public let fingerprint: UInt64
    public let entries: [Entry]
    /// `clusterCount × dim` float32.
    public let centroids: [Float]
    public let fileSize: Int
    private let fd: Int32

    public var clusterCount: Int { entries.count }

    public init(path: String) throws {
        self.path = path
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ANNError.missingInput(source: path, message: errnoText(errno)) }
        self.fd = fd
        var st = stat()
        fstat(fd, &st)
        fileSize = Int(st.st_size)
        func bad(_ m: String) -> ANNError { .badData(source: path, message: m) }
        do {
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw bad("not a regular file") }
            var head = [UInt8](repeating: 0, count: StreamHeader.size)
            try Self.pread(fd, &head, at: 0, path: path)
            let h = try StreamHeader.decode(head, source: path)
            guard h.kind == .index else { throw bad("is \(h.kind.noun), not a packed index") }
            guard let type = h.elementType, let metric = h.metric, h.aux > 0, let n = h.count else {
                throw bad("packed index header lacks its element type, metric, cluster count or vector count")
            }
            guard fileSize >= StreamHeader.size + Self.trailerSize else { throw bad("truncated index (\(fileSize) bytes)") }
            var trailer = [UInt8](repeating: 0, count: Self.trailerSize)
            try Self.pread(fd, &trailer, at: fileSize - Self.trailerSize, path: path)
            guard Array(trailer[0..<4]) == Self.trailerMagic else { throw bad("truncated or damaged index: no trailer at its end") }
            let dirCRC: UInt32 = trailer.loadLE(at: 4)
            let dirOffset = Int(trailer.loadLE(at: 8) as UInt64)
            let k = Int(h.aux), d = h.dim
            let dirSize = k * Self.entrySize + k * d * 4
            guard dirOffset >= StreamHeader.size, dirOffset + dirSize == fileSize - Self.trailerSize else {
                throw bad("truncated or damaged index: the directory does not fit the file")
            }
            guard let layout = ClusterFrame.Layout(rawValue: trailer[24]) else { throw bad("unknown vector layout \(trailer[24])") }
            guard trailer[26..<32].allSatisfy({ $0 == 0 }) else { throw bad("reserved trailer bytes are not zero") }
            var dir = [UInt8](repeating: 0, count: dirSize)
            try Self.pread(fd, &dir, at: dirOffset, path: path)
            let crc = Checksum.crc32c(dir)
            guard crc == dirCRC else { throw bad("directory checksum mismatch: the index is damaged") }
            var entries = [Entry]()
            entries.reserveCapacity(k)
            var total = 0
            for c in 0..<k {
                let o = c * Self.entrySize
                let e = Entry(offset: Int(dir.loadLE(at: o) as UInt64), size: Int(dir.loadLE(at: o + 8) as UInt32),
                              vectors: Int(dir.loadLE(at: o + 12) as UInt32), crc: dir.loadLE(at: o + 16))
                guard e.offset >= StreamHeader.size, e.offset + e.size <= dirOffset else {
                    throw bad("cluster \(c): frame lies outside the file (truncated or damaged index)")
                }
                total += e.vectors
                entries.append(e)
            }
            guard total >= n else { throw bad("clusters hold \(total) vectors, fewer than the \(n) the header counts") }
            var cents = [Float](repeating: 0, count: k * d)
            cents.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: dir.withUnsafeBytes { $0 }[(k * Self.entrySize)...])) }
            dim = d
            elementType = type
            self.metric = metric
            vectorCount = n
            self.layout = layout
            level = Int(trailer[25])
            fingerprint = trailer.loadLE(at: 16)
            self.entries = entries
            centroids = cents
            guard fingerprint == Self.fingerprint(centroids: cents, k: k, dim: d, metric: metric) else {
                throw bad("clustering fingerprint does not match the centroids: the index is damaged")
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit { Glibc.close(fd) }

    /// The identity of a clustering: what a router model must have been trained for.
    public static func fingerprint(centroids: [Float], k: Int, dim: Int, metric: Metric) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var head = [UInt8](repeating: 0, count: 9)
        head.storeLE(UInt32(k), at: 0)
        head.storeLE(UInt32(dim), at: 4)
        head[8] = metric.code
        h = head.withUnsafeBytes { Checksum.fnv1a($0, seed: h) }
        return centroids.withUnsafeBytes { Checksum.fnv1a($0, seed: h) }
    }

    /// Fetches cluster `c` into `buffers`: one pread of its frame, CRC check, decompression,
    /// decoding to ids and float32 vectors. Returns the number of vectors. With `vectors`
    /// false only the ids are decoded (`buffers.floats` is left alone): the frame is still read,
    /// checked and decompressed whole, so the same damage is refused.
    @discardableResult
    public func fetch(_ c: Int, into buffers: ClusterBuffers, vectors: Bool = true) throws -> Int {
        let e = entries[c]
        func bad(_ m: String) -> ANNError { .badData(source: path, message: "cluster \(c): \(m)") }
        buffers.reserve(compressed: e.size, vectors: e.vectors, dim: dim, type: elementType, floats: vectors)
        let got = buffers.compressed.withUnsafeMutableBytes { b -> Int in
            var done = 0
            while done < e.size {
                let r = Glibc.pread(fd, b.baseAddress! + done, e.size - done, off_t(e.offset + done))
                if r > 0 { done += r; continue }
                if r < 0 && errno == EINTR { continue }
                return r < 0 ? -Int(errno) : done
            }
            return done
        }
        if got < 0 { throw ANNError.io(target: path, message: "cluster \(c): read failed: \(errnoText(Int32(-got)))") }
        guard got == e.size else { throw bad("truncated frame (\(got) of \(e.size) bytes)") }
        let crc = buffers.compressed.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<e.size])) }
        guard crc == e.crc else {
            throw bad("checksum mismatch (stored \(String(e.crc, radix: 16)), computed \(String(crc, radix: 16))): the index is damaged")
        }
        let contentSize = ClusterFrame.byteCount(vectors: e.vectors, dim: dim, type: elementType)
        try buffers.compressed.withUnsafeBytes { src in
            try Zstd.decompress(UnsafeRawBufferPointer(rebasing: src[0..<e.size]),
                                into: UnsafeMutableRawBufferPointer(start: buffers.content, count: contentSize), source: "\(path): cluster \(c)")
        }
        if vectors {
            ClusterFrame.decode(buffers.content, n: e.vectors, dim: dim, type: elementType, layout: layout,
                                ids: buffers.ids, floats: buffers.floats)
        } else {
            ClusterFrame.decodeIDs(buffers.content, n: e.vectors, ids: buffers.ids)
        }
        return e.vectors
    }

    /// Asks the kernel to drop this file's cached pages, so the next fetches come from the
    /// device (for cold-cache measurements; not needed for correctness).
    public func dropCache() {
        fdatasync(fd)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    }

    static func pread(_ fd: Int32, _ buf: inout [UInt8], at offset: Int, path: String) throws {
        let n = buf.count
        let r = buf.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, n, off_t(offset)) }
        if r < 0 { throw ANNError.io(target: path, message: "read failed: \(errnoText(errno))") }
        if r != n { throw ANNError.badData(source: path, message: "truncated index (short read at offset \(offset))") }
    }
}

/// Reusable per-thread buffers for fetching clusters: no allocation per fetch once grown.
public final class ClusterBuffers {
    public var compressed: [UInt8] = []
    public private(set) var content: UnsafeMutableRawPointer = .allocate(byteCount: 1, alignment: 64)
    public private(set) var ids: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    public private(set) var floats: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var contentCapacity = 1
    private var vectorCapacity = 0
    private var floatCapacity = 1

    public init() {}

    deinit {
        content.deallocate()
        ids.deallocate()
        floats.deallocate()
    }

    func reserve(compressed size: Int, vectors n: Int, dim: Int, type: ElementType, floats wantFloats: Bool = true) {
        if compressed.count < size { compressed = [UInt8](repeating: 0, count: size) }
        let cs = ClusterFrame.byteCount(vectors: n, dim: dim, type: type)
        if contentCapacity < cs {
            content.deallocate()
            content = .allocate(byteCount: cs, alignment: 64)
            contentCapacity = cs
        }
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
