import Glibc

/// The largest squared norm a float32 vector may have. Below it, every quantity the tools
/// compute between two accepted vectors stays finite in float32: a squared distance is at most
/// (‖x‖ + ‖y‖)² ≤ 4 · limit, an inner product at most limit, the sgemm form ‖x‖² − 2x·y + ‖y‖²
/// at most 4 · limit, with room for rounding. A vector beyond it would give +inf distances,
/// and a +inf distance cannot rank anything: it would silently fall out of every result.
public enum NormLimit {
    /// Float.greatestFiniteMagnitude / 8, about 4.25e+37.
    public static let maxSquaredNorm = Double(Float.greatestFiniteMagnitude) / 8

    /// The squared norm of `x`, summed in double precision so that it cannot overflow.
    public static func squaredNorm(_ x: UnsafePointer<Float>, _ d: Int) -> Double {
        var s = 0.0
        for j in 0..<d { s += Double(x[j]) * Double(x[j]) }
        return s
    }

    /// Whether a squared norm (NaN and +inf included) is beyond the limit.
    @inline(__always)
    public static func exceeds(_ squaredNorm: Double) -> Bool { !(squaredNorm <= maxSquaredNorm) }

    /// The first of `n` rows (`d` wide) whose squared norm is beyond the limit, with that norm.
    /// A float32 sum screens each row; only a row near or over the limit is summed again in
    /// double precision, so the decision is exact and the common case stays fast.
    public static func firstExceeding(_ x: UnsafePointer<Float>, n: Int, d: Int) -> (row: Int, squaredNorm: Double)? {
        let screen = Float(maxSquaredNorm / 2)
        for i in 0..<n {
            let r = x + i * d
            // An overflowing float sum is +inf and goes to the exact test.
            guard !(DotProduct.float32(r, r, d) <= screen) else { continue }
            let s = squaredNorm(r, d)
            if exceeds(s) { return (i, s) }
        }
        return nil
    }

    /// How a squared norm is written in messages: two significant digits ("4.1e+38").
    public static func describe(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : "inf" }
        guard v > 0 else { return "0" }
        var e = Int(Glibc.floor(Glibc.log10(v)))
        var tenths = Int((v / Glibc.pow(10, Double(e)) * 10).rounded())
        if tenths >= 100 { tenths = (tenths + 5) / 10; e += 1 }
        return "\(tenths / 10).\(tenths % 10)e\(e < 0 ? "-" : "+")\(abs(e) < 10 ? "0" : "")\(abs(e))"
    }
}
