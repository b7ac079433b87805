/// What a native assignment was made for (ann-formats(5), ANNA footer): the clustering whose
/// centroids it names, and the base whose vectors it places. ann-pack refuses to combine an
/// assignment with centroids or a base of another identity, so a mismatch cannot become an
/// index that quietly answers wrong.
public struct AssignmentIdentity: Equatable, Sendable {
    /// `Fingerprint.clustering` of the centroids.
    public var clustering: UInt64
    /// `BaseFingerprint` of the base.
    public var base: UInt64
    /// Vectors in the base.
    public var baseCount: Int

    public init(clustering: UInt64, base: UInt64, baseCount: Int) {
        self.clustering = clustering
        self.base = base
        self.baseCount = baseCount
    }

    /// The identity of an assignment of everything `base` delivered, made for the clustering
    /// `clustering`; `base` must have `fingerprinting` on and be read to its end.
    public init(clustering: UInt64, base: VectorReader) throws {
        guard let fp = base.fingerprint else {
            throw ANNError.badData(source: base.name, message: "the input was not read to its end")
        }
        guard base.recordsRead <= Int(UInt32.max) else {
            throw ANNError.badData(source: base.name, message: "more than \(UInt32.max) vectors: ids are 32-bit")
        }
        self.init(clustering: clustering, base: fp, baseCount: base.recordsRead)
    }

    public static let footerSize = 32
    static let footerMagic = Array("ANNF".utf8)

    /// The footer that ends a native assignment: magic, CRC-32C of the records, the identity,
    /// and a CRC-32C of the footer's own first 28 bytes.
    func footer(recordsCRC: UInt32) -> [UInt8] {
        precondition(baseCount >= 0 && baseCount <= Int(UInt32.max))
        var f = [UInt8](repeating: 0, count: Self.footerSize)
        f.replaceSubrange(0..<4, with: Self.footerMagic)
        f.storeLE(recordsCRC, at: 4)
        f.storeLE(clustering, at: 8)
        f.storeLE(base, at: 16)
        f.storeLE(UInt32(baseCount), at: 24)
        f.storeLE(f.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<28])) }, at: 28)
        return f
    }

    /// Parses a footer: the identity and the records CRC it vouches for.
    static func decode(footer f: [UInt8], source: String) throws -> (identity: AssignmentIdentity, recordsCRC: UInt32) {
        func bad(_ m: String) -> ANNError { .badData(source: source, message: m) }
        guard f.count == footerSize, Array(f[0..<4]) == footerMagic else {
            throw bad("truncated or damaged assignment: no footer at its end")
        }
        let stored: UInt32 = f.loadLE(at: 28)
        guard stored == f.withUnsafeBytes({ Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<28])) }) else {
            throw bad("assignment footer checksum mismatch: the assignment is damaged")
        }
        let identity = AssignmentIdentity(clustering: f.loadLE(at: 8), base: f.loadLE(at: 16),
                                          baseCount: Int(f.loadLE(at: 24) as UInt32))
        return (identity, f.loadLE(at: 4))
    }

    /// Refuses an assignment made for other centroids: `centroids` is the clustering's
    /// fingerprint as the index will record it.
    public func check(clustering centroids: UInt64, source: String, centroidsName: String) throws {
        guard clustering == centroids else {
            throw ANNError.badData(source: source, message: "the assignment was made for another clustering (fingerprint \(hex(clustering))) than \(centroidsName) (\(hex(centroids)))")
        }
    }

    /// Refuses an assignment made for a base of another size (as soon as the size is known).
    public func check(baseCount n: Int, source: String, baseName: String) throws {
        guard n == baseCount else {
            throw ANNError.badData(source: source, message: "the assignment was made for a base of \(baseCount) vectors, \(baseName) holds \(n)")
        }
    }

    /// Refuses an assignment made for another base, once the base has been read whole.
    public func check(baseCount n: Int, fingerprint: UInt64, source: String, baseName: String) throws {
        try check(baseCount: n, source: source, baseName: baseName)
        guard fingerprint == base else {
            throw ANNError.badData(source: source, message: "the assignment was made for another base (fingerprint \(hex(base))) than \(baseName) (\(hex(fingerprint)))")
        }
    }
}

private func hex(_ v: UInt64) -> String { String(v, radix: 16) }
