/// SIMD distance kernels for the places BLAS does not fit: single pairs, norms, conversions.
/// Relaxed reductions are deliberate: they let the compiler keep 16 lanes busy.
public enum Kernels {
    /// Squared Euclidean distance of two `d`-vectors.
    @inline(__always)
    public static func l2sq(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= d {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            let t = x - y
            acc.addProduct(t, t)
            i += 16
        }
        var s = acc.sum()
        while i < d { let t = a[i] - b[i]; s += t * t; i += 1 }
        return s
    }

    /// Inner product of two `d`-vectors.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= d {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            acc.addProduct(x, y)
            i += 16
        }
        var s = acc.sum()
        while i < d { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Writes the squared norm of each of `n` rows.
    public static func squaredNorms(_ x: UnsafePointer<Float>, n: Int, d: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { out[i] = dot(x + i * d, x + i * d, d) }
    }

    /// Scales each of `n` rows to unit length (rows of zeros stay zero).
    public static func normalizeRows(_ x: UnsafeMutablePointer<Float>, n: Int, d: Int) {
        for i in 0..<n {
            let r = x + i * d
            let s = dot(r, r, d)
            guard s > 0 else { continue }
            let inv = 1 / s.squareRoot()
            for j in 0..<d { r[j] *= inv }
        }
    }

    /// The internal distance (smaller is nearer) of two vectors under `metric`; cos expects
    /// unit-length inputs.
    @inline(__always)
    public static func distance(_ metric: Metric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        metric == .l2 ? l2sq(a, b, d) : -dot(a, b, d)
    }
}
