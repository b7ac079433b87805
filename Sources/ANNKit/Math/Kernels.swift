import Glibc

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

    /// Inner product of two `d`-vectors (the formats layer's, inlined here).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        DotProduct.float32(a, b, d)
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

extension Kernels {
    /// e^x for 16 lanes: range reduction to 2^n · e^r with |r| ≤ ln2/2 and a degree-6
    /// polynomial (relative error < 2e-7); inputs below −87 give 0. Softmax over K logits per
    /// sample is the one transcendental hot spot of router training.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -87), hi = SIMD16<Float>(repeating: 88)
        let clamped = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits:
        // no per-lane conversions, which Swift does not vectorise.
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let t = clamped * 1.442_695_04 + magic
        let n = t - magic
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p = SIMD16<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: SIMD16<Float>.self)
    }

    /// Replaces each of `n` rows of `k` values by its softmax; returns nothing, rows sum to 1.
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, n: Int, k: Int) {
        for i in 0..<n {
            let row = x + i * k
            var m16 = SIMD16<Float>(repeating: -.infinity)
            var j = 0
            while j + 16 <= k {
                let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                m16 = m16.replacing(with: v, where: v .> m16)
                j += 16
            }
            var m = m16.max()
            while j < k { m = Swift.max(m, row[j]); j += 1 }
            var s16 = SIMD16<Float>(repeating: 0)
            j = 0
            while j + 16 <= k {
                let v = exp(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self) - SIMD16(repeating: m))
                UnsafeMutableRawPointer(row + j).storeBytes(of: v, as: SIMD16<Float>.self)
                s16 += v
                j += 16
            }
            var sum = s16.sum()
            while j < k { row[j] = Glibc.exp(row[j] - m); sum += row[j]; j += 1 }
            let inv = 1 / sum
            j = 0
            while j + 16 <= k {
                let p = UnsafeMutableRawPointer(row + j)
                p.storeBytes(of: p.load(as: SIMD16<Float>.self) * inv, as: SIMD16<Float>.self)
                j += 16
            }
            while j < k { row[j] *= inv; j += 1 }
        }
    }
}
