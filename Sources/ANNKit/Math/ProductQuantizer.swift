import Dispatch

/// A product quantizer of `dim`-vectors into `m` bytes: the dimensions are split into `m`
/// contiguous subspaces as evenly as they go (any m from 1 to dim, so a memory budget is met
/// to the byte), each with its own 256-word codebook learnt by k-means. The router encodes
/// residuals from a vector's cluster centroid, as FAISS's IVFPQ does. With a `rotation` (an
/// orthogonal d×d matrix learnt with the codebooks, as FAISS's OPQ) a vector x is coded as R·x:
/// distances and inner products are unchanged by it, and the subspaces carry more evenly what
/// the codes must tell apart.
public struct ProductQuantizer: Sendable {
    public static let words = 256

    public let dim: Int
    public let m: Int
    /// First dimension of each subspace, and `dim` at the end (`m + 1` values).
    public let bounds: [Int]
    /// The codebooks back to back: subspace s holds 256 words of `width(s)` floats,
    /// dimension-major (`codebooks[bounds[s]·256 + u·256 + j]` is word j's value in dimension
    /// bounds[s]+u), so a lookup table is built 256 words at a time.
    public var codebooks: [Float]
    /// R, row-major `dim × dim`, or empty for none: a vector is coded as R·x.
    public let rotation: [Float]

    public init(dim: Int, m: Int, codebooks: [Float], rotation: [Float] = []) {
        precondition(m >= 1 && m <= dim && codebooks.count == Self.words * dim)
        precondition(rotation.isEmpty || rotation.count == dim * dim)
        self.dim = dim
        self.m = m
        bounds = (0...m).map { s in s * (dim / m) + min(s, dim % m) }
        self.codebooks = codebooks
        self.rotation = rotation
    }

    public var rotated: Bool { !rotation.isEmpty }

    /// R·x of one vector into `out` (x itself when there is no rotation).
    @inline(__always)
    public func rotate(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        guard rotated else { out.update(from: x, count: dim); return }
        // Multiply and add, not addProduct: without FMA in the target, a SIMD fused
        // multiply-add lowers to a libm call per lane, four times slower here. Two rows at a
        // time share each load of x and keep two chains of additions in flight; each row's
        // sum is formed in the same order as alone.
        rotation.withUnsafeBufferPointer { r in
            let wide = dim & ~15
            let xr = UnsafeRawPointer(x)
            func tail(_ i: Int, _ s: Float) -> Float {
                var s = s, j = wide
                while j < dim { s += r[i * dim + j] * x[j]; j += 1 }
                return s
            }
            // An odd last row is paired with itself, its second sum discarded.
            var i = 0
            while i < dim {
                let i1 = min(i + 1, dim - 1)
                let row0 = UnsafeRawPointer(r.baseAddress! + i * dim), row1 = UnsafeRawPointer(r.baseAddress! + i1 * dim)
                var acc0 = SIMD16<Float>(repeating: 0), acc1 = SIMD16<Float>(repeating: 0)
                var j = 0
                while j < wide {
                    let v = xr.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self)
                    acc0 += row0.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self) * v
                    acc1 += row1.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self) * v
                    j += 16
                }
                out[i] = tail(i, acc0.sum())
                if i1 > i { out[i1] = tail(i1, acc1.sum()) }
                i += 2
            }
        }
    }

    public func width(_ s: Int) -> Int { bounds[s + 1] - bounds[s] }

    /// Learns the codebooks from `n` training vectors (row-major residuals), subspace by
    /// subspace; deterministic for a seed.
    public static func train(_ data: UnsafePointer<Float>, n: Int, dim: Int, m: Int, iterations: Int = 20, seed: UInt64) throws -> ProductQuantizer {
        guard n >= words else {
            throw ANNError.usage("a product quantizer needs at least \(words) training vectors, the index holds \(n)")
        }
        var pq = ProductQuantizer(dim: dim, m: m, codebooks: [Float](repeating: 0, count: words * dim))
        for s in 0..<m {
            let w = pq.width(s), lo = pq.bounds[s]
            var sub = [Float](repeating: 0, count: n * w)
            for i in 0..<n { for u in 0..<w { sub[i * w + u] = data[i * dim + lo + u] } }
            var p = KMeansParameters(k: words)
            p.iterations = iterations
            p.seed = seed &+ UInt64(s)
            let r = try sub.withUnsafeBufferPointer { try KMeans.train(data: $0.baseAddress!, n: n, d: w, parameters: p) }
            for j in 0..<words { for u in 0..<w { pq.codebooks[lo * words + u * words + j] = r.centroids[j * w + u] } }
        }
        return pq
    }

    /// Writes the `m`-byte code of each of `n` vectors (row-major) to `codes`: the nearest word
    /// of each subspace's codebook (of R·x with a rotation).
    public func encode(_ data: UnsafePointer<Float>, n: Int, into codes: UnsafeMutablePointer<UInt8>) {
        guard rotated, n > 0 else { return encodeRotated(data, n: n, into: codes) }
        let z = UnsafeMutablePointer<Float>.allocate(capacity: n * dim)
        defer { z.deallocate() }
        rotation.withUnsafeBufferPointer { r in
            BLAS.gemmABt(m: n, n: dim, k: dim, alpha: 1, a: data, lda: dim, b: r.baseAddress!, ldb: dim, beta: 0, c: z, ldc: dim)
        }
        encodeRotated(z, n: n, into: codes)
    }

    /// `encode` of vectors already rotated.
    func encodeRotated(_ data: UnsafePointer<Float>, n: Int, into codes: UnsafeMutablePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.words) { best in
            for i in 0..<n {
                let x = data + i * dim
                for s in 0..<m {
                    terms(x + bounds[s], subspace: s, l2: true, into: best.baseAddress!)
                    // The smallest distance sixteen at a time, then its first word: the word a
                    // scan for the first strictly smaller one would find, without its branches.
                    let raw = UnsafeRawPointer(best.baseAddress!)
                    var low = raw.loadUnaligned(as: SIMD16<Float>.self)
                    for j in stride(from: 16, to: Self.words, by: 16) {
                        low = pointwiseMin(low, raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self))
                    }
                    let least = low.min()
                    var arg = 0
                    while best[arg] != least { arg += 1 }
                    codes[i * m + s] = UInt8(arg)
                }
            }
        }
    }

    /// The squared distance from `x` (subspace s's slice) to each of its 256 words (`l2`), or
    /// minus the inner product with each.
    @inline(__always)
    public func terms(_ x: UnsafePointer<Float>, subspace s: Int, l2: Bool, into out: UnsafeMutablePointer<Float>) {
        let lo = bounds[s], w = width(s)
        codebooks.withUnsafeBufferPointer { cb in
            let c = UnsafeRawPointer(cb.baseAddress! + lo * Self.words)
            // 32 words at a time: each x[u] is broadcast once for both halves, and eight
            // independent chains of additions hide their latency. Every term is still summed
            // over u in order from zero.
            for j in stride(from: 0, to: Self.words, by: 32) {
                var a = SIMD16<Float>(repeating: 0), b = SIMD16<Float>(repeating: 0)
                if l2 {
                    for u in 0..<w {
                        let xu = SIMD16<Float>(repeating: x[u]), at = 4 * (u * Self.words + j)
                        let ta = xu - c.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self)
                        let tb = xu - c.loadUnaligned(fromByteOffset: at + 64, as: SIMD16<Float>.self)
                        a += ta * ta
                        b += tb * tb
                    }
                } else {
                    for u in 0..<w {
                        let xu = SIMD16<Float>(repeating: x[u]), at = 4 * (u * Self.words + j)
                        a -= xu * c.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self)
                        b -= xu * c.loadUnaligned(fromByteOffset: at + 64, as: SIMD16<Float>.self)
                    }
                }
                UnsafeMutableRawPointer(out + j).storeBytes(of: a, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + j + 16).storeBytes(of: b, as: SIMD16<Float>.self)
            }
        }
    }

    /// The lookup table of `x` (a full `dim`-vector): `m × 256` terms whose sum over a code's
    /// words is its squared distance to `x` (l2) or minus its inner product (ip, cos).
    public func table(_ x: UnsafePointer<Float>, metric: Metric, into out: UnsafeMutablePointer<Float>) {
        guard rotated else { return tableRotated(x, metric: metric, into: out) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: dim) { z in
            rotate(x, into: z.baseAddress!)
            tableRotated(z.baseAddress!, metric: metric, into: out)
        }
    }

    func tableRotated(_ x: UnsafePointer<Float>, metric: Metric, into out: UnsafeMutablePointer<Float>) {
        for s in 0..<m { terms(x + bounds[s], subspace: s, l2: metric == .l2, into: out + s * Self.words) }
    }

    /// Writes the vector `code` stands for (in the rotated space) into `out`.
    func decodeRotated(_ code: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        codebooks.withUnsafeBufferPointer { cb in
            for s in 0..<m {
                let lo = bounds[s], word = Int(code[s])
                for u in 0..<width(s) { out[lo + u] = cb[(lo + u) * Self.words + word] }
            }
        }
    }

    /// The sum of `table`'s terms for one code.
    @inline(__always)
    public static func lookup(_ table: UnsafePointer<Float>, code: UnsafePointer<UInt8>, m: Int) -> Float {
        var s: Float = 0
        var t = table
        for i in 0..<m {
            s += t[Int(code[i])]
            t += words
        }
        return s
    }

    /// `lookup` of four consecutive codes over subspaces `from..<to`, added to `start`: four
    /// independent chains of additions instead of one, each summed in the same order as alone.
    @inline(__always)
    public static func lookup4(_ table: UnsafePointer<Float>, code: UnsafePointer<UInt8>, m: Int, from: Int, to: Int,
                               start: SIMD4<Float>) -> SIMD4<Float> {
        var s = start
        var t = table + from * words
        let c1 = code + m, c2 = code + 2 * m, c3 = code + 3 * m
        for i in from..<to {
            s += SIMD4(t[Int(code[i])], t[Int(c1[i])], t[Int(c2[i])], t[Int(c3[i])])
            t += words
        }
        return s
    }
}
