/// The one SIMD inner product: the formats layer screens vector norms with it, and the
/// distance kernels above build on it. Inlinable so that callers in other modules get the
/// vector loop itself, not a call per pair. The reduction is relaxed on purpose: 16 lanes.
public enum DotProduct {
    @inlinable @inline(__always)
    public static func float32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
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
}
